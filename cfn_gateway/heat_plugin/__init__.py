"""The Heat plugin: Heat resources whose alarms, launch configurations, groups and scaling
policies live in the gateway.

Heat's own ``AWS::CloudWatch::Alarm`` today becomes an Aodh threshold rule that current
Aodh no longer has.  The resources of this package (``OS::CfnGateway::Alarm``,
``::LaunchConfiguration``, ``::AutoScalingGroup``, ``::ScalingPolicy``) create what the
template declares in the gateway instead, through its CloudWatch and Auto Scaling APIs,
acting for the stack's owner with the Keystone token Heat holds for the stack.  The
gateway evaluates alarms with AWS's rules and runs their actions: a gateway policy's ARN,
or the ``AlarmUrl``/``alarm_url`` of one of Heat's own scaling policies.

Installing (on every heat-engine node, into heat-engine's Python environment)::

    pip install 'cfn-gateway[heat]'

then make heat-engine load the resources.  Heat finds resource plugins only by walking
the directories of ``[DEFAULT] plugin_dirs`` (there is no entry point for them), and a
package directory must not be one of them (its modules would be imported twice).  The
package ships a one-file loader directory for that purpose; print its path with
``python -m cfn_gateway.heat_plugin`` and add it::

    [DEFAULT]
    plugin_dirs = /usr/lib64/heat,/usr/lib/heat,<that directory>

    [cfn_gateway]
    # the gateway's endpoint; unset: the catalog's "cfn-gateway" service
    url = http://gateway.example.com:8080/

and restart heat-engine.  Its log then lists the ``OS::CfnGateway::*`` types among the
registered resources; when the plugin cannot work (botocore missing, unusable options) it
logs why and registers nothing, and heat-engine starts as before.

Two set-ups, the operator's choice:

- Native names: templates say ``OS::CfnGateway::*``; Heat's built-in AWS types are
  untouched.  A stack can opt in with an environment file (``openstack stack create -e
  gateway.yaml``) whose ``resource_registry`` maps the AWS names to the native ones, so
  unmodified AWS templates use the gateway.
- AWS names everywhere: the same mapping in the global environment.  Heat's stock
  ``environment.d/default.yaml`` already maps ``AWS::CloudWatch::Alarm`` (to an Aodh
  template resource) and is read after the plugins, so edit that line rather than add a
  second file::

      resource_registry:
        "AWS::CloudWatch::Alarm": "OS::CfnGateway::Alarm"
        "AWS::AutoScaling::LaunchConfiguration": "OS::CfnGateway::LaunchConfiguration"
        "AWS::AutoScaling::AutoScalingGroup": "OS::CfnGateway::AutoScalingGroup"
        "AWS::AutoScaling::ScalingPolicy": "OS::CfnGateway::ScalingPolicy"

  Mapping only the alarm keeps Heat's own groups and policies, driven by gateway alarms
  through their ``AlarmUrl``.

Layout: ``options`` (the ``[cfn_gateway]`` options in Heat's configuration), ``client``
(AWS Query requests over a Keystone session, serialised and parsed by botocore),
``alarm_params``, ``actions``, ``scaling_params``, ``policy_params`` and ``user_data``
(pure rules, no Heat import), ``gateway_resource`` (what the resources share), ``alarm``,
``launch_config``, ``group`` and ``policy`` (the resources), ``resources`` (the mapping
Heat asks for), ``loader/`` (the plugin_dirs shim).  The package imports only the
standard library, botocore, keystoneauth1, oslo.config and Heat, and of the rest of
cfn_gateway only ``domain.heat_tags`` (the tag names the gateway reads back).
"""
