"""The VPC of the data services, reaching AWS through VPC endpoints (``DataNetwork``), and the stack
mixin that takes its availability zones at deploy time (``DeployTimeAvailabilityZones``)."""
