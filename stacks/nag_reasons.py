"""Acknowledgment reasons that several stacks give for the same kind of finding.

A stack's other acknowledgments live in its own module, next to the resources that cause them;
findings inherent to a construct are acknowledged inside that construct (constructs_lib).
"""

#: IAM User Guide, "Managed policies and inline policies"
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html): AWS
#: recommends managed policies in general, and inline policies where a policy must stay in a strict
#: one-to-one relationship with one identity. These policies are that case.
INLINE_GRANT_POLICIES = (
    "This role's permissions are the inline policy CDK generates from explicit grants (one AWS::IAM::Policy "
    "attached to this role only, each statement scoped to the stream, bucket, key or log group the role "
    "needs). The IAM User Guide (Managed policies and inline policies) names inline policies for a strict "
    "one-to-one relationship between a policy and the identity it applies to, so the permissions cannot be "
    "attached to another identity by mistake; versions and rollback come from the template."
)
