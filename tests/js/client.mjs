// The CloudWatch client of the scripts here: the gateway's endpoint and credentials from
// the environment (CFN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), no retries.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";

const env = process.env;
export const client = new CloudWatchClient({
  endpoint: env.CFN_ENDPOINT,
  region: "us-east-1",
  maxAttempts: 1,
  credentials: {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  },
});
