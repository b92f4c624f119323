// The AWS SDK for JavaScript v3 reads GetMetricData from the gateway, as Grafana's
// CloudWatch data source and dashboards do: publish a few points, then read them back
// through the SDK's paginator (pages of MaxDatapoints) with a MetricStat query and a
// metric math expression.  Prints one JSON object for tests/functional/test_js_sdk.py.
// Environment: CFN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, NAMESPACE.
import {
  PutMetricDataCommand,
  paginateGetMetricData,
} from "@aws-sdk/client-cloudwatch";
import { client } from "./client.mjs";

const env = process.env;
const namespace = env.NAMESPACE;
const minute = 60 * 1000;
const t0 = new Date(Math.floor(Date.now() / minute) * minute - 10 * minute);

await client.send(new PutMetricDataCommand({
  Namespace: namespace,
  MetricData: [1, 2, 3, 4].map((value, i) => ({
    MetricName: "Requests",
    Timestamp: new Date(t0.getTime() + i * minute),
    Value: value,
    Unit: "Count",
  })),
}));

const queries = [
  {
    Id: "requests",
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: "Requests" },
      Period: 60,
      Stat: "Sum",
    },
  },
  { Id: "doubled", Expression: "requests * 2", Label: "Doubled" },
];
const seen = {};
let pages = 0;
for await (const page of paginateGetMetricData({ client, pageSize: 3 }, {
  StartTime: t0,
  EndTime: new Date(t0.getTime() + 5 * minute),
  ScanBy: "TimestampAscending",
  MetricDataQueries: queries,
})) {
  pages += 1;
  for (const result of page.MetricDataResults) {
    const entry = (seen[result.Id] ??= { label: result.Label, values: [], times: [] });
    entry.values.push(...result.Values);
    entry.times.push(...result.Timestamps.map((t) => t.getTime() - t0.getTime()));
  }
}
console.log(JSON.stringify({ pages, results: seen }));
