"""A directory for Heat's ``[DEFAULT] plugin_dirs``: it holds only the loader shim.

``python -m cfn_gateway.heat_plugin`` prints its path.  Heat imports the shim as
``heat.engine.plugins.cfn_gateway_heat``; this ``__init__`` is not loaded by Heat, it
only makes the directory part of the installed package.
"""
