"""Wire protocols: botocore models, request parsers, validation, response serializers."""
