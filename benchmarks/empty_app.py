"""The jsii start-up floor: an app with one empty stack, synthesised the way the CLI runs apps."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
