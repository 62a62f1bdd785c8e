"""Kept for compatibility: ``constructs_lib.deploy_time_function``, documented before 0.7.0, moved to
``constructs_lib.common.deploy_time_function`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.common.deploy_time_function import (
    DeployTimeFunction as DeployTimeFunction,
    FUNCTION_RUNTIME as FUNCTION_RUNTIME,
    FunctionVpc as FunctionVpc,
    HANDLER as HANDLER,
    HTTPS as HTTPS,
    MAX_TIMEOUT as MAX_TIMEOUT,
    MEMORY_MIB as MEMORY_MIB,
    MIN_TIMEOUT as MIN_TIMEOUT,
    SERVICE_TIMEOUT_MARGIN as SERVICE_TIMEOUT_MARGIN,
    SHARED_DIR as SHARED_DIR,
    VPC_CREATE_ACTIONS as VPC_CREATE_ACTIONS,
    VPC_DESCRIBE_ACTIONS as VPC_DESCRIBE_ACTIONS,
    VPC_MANAGE_ACTIONS as VPC_MANAGE_ACTIONS,
    VPC_NETWORK_INTERFACE_ACTIONS as VPC_NETWORK_INTERFACE_ACTIONS,
    check_timeout as check_timeout,
    deploy_time_function as deploy_time_function,
    function_code as function_code,
    network_interfaces_arn as network_interfaces_arn,
)
