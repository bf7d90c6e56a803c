package infra

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// TestNagNoErrors: cdk-nag's AWS Solutions pack finds nothing left to fix
// in any stack of any environment.
func TestNagNoErrors(t *testing.T) {
	f := setup(t)
	for _, cfg := range Environments() {
		for _, s := range f.envs[cfg.Name].Stacks() {
			ann := assertions.Annotations_FromStack(s)
			for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()) {
				t.Errorf("%s: %s", *s.StackName(), js(m))
			}
			has(t, *s.StackName()+" has no AwsSolutions errors", func() {
				ann.HasNoError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			})
		}
	}
}

// TestNagCatchesViolations proves the check above can fail: the same rule
// pack flags an open database port and an unencrypted, unlogged bucket.
func TestNagCatchesViolations(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{BuiltinCloudFormationValidation: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(1), NatGateways: jsii.Number(0)})
	sg := awsec2.NewSecurityGroup(stack, jsii.String("Open"), &awsec2.SecurityGroupProps{Vpc: vpc})
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(5432)), nil, nil)
	awss3.NewBucket(stack, jsii.String("Leaky"), nil)
	ApplyNagChecks(app, false)

	ann := assertions.Annotations_FromStack(stack)
	for _, rule := range []string{"AwsSolutions-EC23", "AwsSolutions-S1", "AwsSolutions-S10", "AwsSolutions-VPC7"} {
		if n := len(*ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(rule+":.*")))); n == 0 {
			t.Errorf("cdk-nag did not report %s", rule)
		}
	}
}

var nagRuleID = regexp.MustCompile(`^AwsSolutions-[A-Z]+[0-9]+$`)

// TestNagSuppressionsAreJustified: every suppression names a real rule,
// carries a specific written reason, narrows IAM findings to the exact
// resource, and still silences a finding (no stale suppressions).
func TestNagSuppressionsAreJustified(t *testing.T) {
	f := setup(t)
	used := map[string]bool{} // "path|rule"
	for _, asm := range f.assemblies {
		msgs, err := ReadMessages(*asm.Directory())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if i := strings.Index(m.Text, ": AwsSolutions-"); m.Level == "info" && i >= 0 && strings.Contains(m.Text, "was triggered but suppressed") {
				rule := strings.Fields(m.Text[i+2:])[0]
				used[strings.TrimPrefix(m.Path, "/")+"|"+rule] = true
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("no suppressed findings reported: is logSuppressed on?")
	}

	total := 0
	reasons := map[string]bool{}
	for name, tp := range f.templates {
		for _, r := range tp.resources("") {
			list, _ := get(r.Raw, "Metadata", "cdk_nag", "rules_to_suppress").([]any)
			for _, s := range list {
				total++
				id, _ := get(s, "id").(string)
				reason, _ := get(s, "reason").(string)
				where := name + "/" + r.ID + " " + id
				if !nagRuleID.MatchString(id) {
					t.Errorf("%s: not an AwsSolutions rule id", where)
				}
				if len(reason) < 80 || strings.Contains(strings.ToLower(reason), "todo") {
					t.Errorf("%s: reason too thin: %q", where, reason)
				}
				if (id == "AwsSolutions-IAM4" || id == "AwsSolutions-IAM5") && get(s, "applies_to") == nil {
					t.Errorf("%s: IAM suppression without applies_to silences every finding of the rule", where)
				}
				if !used[tp.pathOf(r.ID)+"|"+id] {
					t.Errorf("%s: suppression never matched a finding (stale)", where)
				}
				reasons[id+": "+reason] = true
			}
		}
	}
	if total == 0 {
		t.Fatal("no suppressions found: metadata not rendered?")
	}
	var list []string
	for r := range reasons {
		list = append(list, r)
	}
	sort.Strings(list)
	t.Logf("%d suppressions, %d distinct:\n%s", total, len(list), strings.Join(list, "\n"))
}
