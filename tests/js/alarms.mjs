// The AWS SDK for JavaScript v3 (its CloudWatch client speaks JSON 1.0) against the
// gateway: publish, create an alarm, wait for it with the SDK's waiter, describe it, and
// show how a refused request surfaces.  Prints one JSON object for
// tests/functional/test_js_sdk.py.  Environment: CFN_ENDPOINT, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, ALARM_NAME, NAMESPACE.
import {
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  waitUntilAlarmExists,
} from "@aws-sdk/client-cloudwatch";
import { client } from "./client.mjs";

const env = process.env;
const name = env.ALARM_NAME;
const namespace = env.NAMESPACE;

await client.send(new PutMetricDataCommand({
  Namespace: namespace,
  MetricData: [{ MetricName: "Load", Value: 3, Unit: "Count" }],
}));
await client.send(new PutMetricAlarmCommand({
  AlarmName: name,
  Namespace: namespace,
  MetricName: "Load",
  Statistic: "Maximum",
  Period: 60,
  EvaluationPeriods: 2,
  DatapointsToAlarm: 1,
  Threshold: 5,
  ComparisonOperator: "GreaterThanThreshold",
  TreatMissingData: "notBreaching",
  Tags: [{ Key: "sdk", Value: "js-v3" }],
}));
const waited = await waitUntilAlarmExists(
  { client, maxWaitTime: 20, minDelay: 1, maxDelay: 2 },
  { AlarmNames: [name] },
);
const described = await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
let refused = null;
try {
  await client.send(new DescribeAlarmsCommand({ NextToken: "not-a-token" }));
} catch (error) {
  refused = { name: error.name, status: error.$metadata?.httpStatusCode };
}
const alarm = described.MetricAlarms[0];
console.log(JSON.stringify({
  waiter: waited.state,
  alarm: {
    name: alarm.AlarmName,
    state: alarm.StateValue,
    threshold: alarm.Threshold,
    datapointsToAlarm: alarm.DatapointsToAlarm,
    updated: alarm.AlarmConfigurationUpdatedTimestamp instanceof Date,
  },
  refused,
}));
