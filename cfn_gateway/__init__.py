"""cfn-gateway: AWS CloudWatch and Auto Scaling APIs for OpenStack, or standalone."""

__version__ = "0.1.0"
