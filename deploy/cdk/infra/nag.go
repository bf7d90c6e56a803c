package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNagChecks runs cdk-nag's AWS Solutions rule pack over every stack in
// scope. A rule that fails adds an error annotation, which makes `cdk deploy`
// refuse and the tests fail; the only way past one is a suppression with a
// written reason next to the resource it concerns. With logSuppressed, every
// finding a suppression silenced is reported as an info annotation (the
// tests use it to prove no suppression is stale).
func ApplyNagChecks(scope constructs.IConstruct, logSuppressed bool) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose:    jsii.Bool(true),
		LogIgnores: jsii.Bool(logSuppressed),
		// The CSV/JSON reports land in the cloud assembly next to the
		// templates; the annotations are what gates.
		Reports: jsii.Bool(false),
	}), nil)
}

// nag is a suppression of a rule for a whole resource.
func nag(id, reason string) *cdknag.NagPackSuppression {
	return &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
}

// nagFor is a suppression limited to the listed findings (for IAM rules, the
// exact resource or action strings; a map{"regex": "/.../"} matches several).
func nagFor(id, reason string, appliesTo ...any) *cdknag.NagPackSuppression {
	s := nag(id, reason)
	list := make([]any, len(appliesTo))
	copy(list, appliesTo)
	s.AppliesTo = &list
	return s
}

// suppress attaches suppressions to exactly one resource: the construct
// itself, or the CloudFormation resource behind an L2 construct.
func suppress(c constructs.IConstruct, s ...*cdknag.NagPackSuppression) {
	list := make([]*cdknag.NagPackSuppression, len(s))
	copy(list, s)
	cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(false))
}

// suppressPolicies attaches suppressions to the policy CDK generates for an
// IAM role (its DefaultPolicy), where wildcard findings land. Call it after
// the grants: the policy only exists once a statement has been added.
func suppressPolicies(role constructs.IConstruct, s ...*cdknag.NagPackSuppression) {
	policy := role.Node().TryFindChild(jsii.String("DefaultPolicy"))
	if policy == nil {
		panic("suppressPolicies: " + *role.Node().Path() + " has no DefaultPolicy yet")
	}
	suppress(policy, s...)
}
