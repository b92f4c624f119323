"""The HTTP side of ``cfn-gateway serve``: what stands between granian and the paste pipeline.

- ``front``: an RSGI app that reads each request body with a deadline before any Python
  thread runs the WSGI pipeline on it;
- ``listener``: the listening socket, bound once and exclusively by the serve process and
  shared by its workers;
- ``lifeline``: workers that outlive their serve process exit.
"""
