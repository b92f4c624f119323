"""The Aodh plugin: CloudWatch alarms as Aodh alarms, evaluated with AWS's rules.

Installed (the ``aodh`` extra) beside Aodh on every aodh-api, aodh-evaluator and
aodh-notifier node, it registers through entry points:

- ``aodh.alarm.rule``: the rule types ``cloudwatch`` and ``cloudwatch_composite``
  (``rules``): validation and the API hooks (ids from names, state kept on updates,
  SetAlarmState);
- ``aodh.evaluator``: their evaluators (``metric_evaluator``, ``composite_evaluator``),
  which Aodh partitions across evaluator nodes with its own coordination;
- ``aodh.notifier``: ``cloudwatch://`` actions (``notifier``), which run the AWS actions
  of a state change and record each outcome in the alarm's history.

How an AWS alarm is laid out in Aodh: ``backends/openstack/aodh_mapping.py``.  The plugin
imports the pure domain modules, that mapping, the Gnocchi reads and the engine's webhook
sender and action dispatch (``tools/testbed/up.sh`` restarts Aodh when any of them
changes); never the gateway's configuration or its API.
"""
