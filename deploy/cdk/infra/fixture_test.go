package infra

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
)

// testImageTag stands in for the git SHA the pipeline passes as imageTag.
const testImageTag = "3f9c2e1d0b7a"

// fixture is every environment synthesized once, each in its own app (as
// `cdk deploy` of one environment would see it): CDK runs in a Node.js
// process behind jsii, so every test reads the same templates instead of
// paying for its own synthesis.
type fixture struct {
	envs       map[string]*Environment
	assemblies map[string]cxapi.CloudAssembly
	templates  map[string]tmpl // by stack name
}

// testAppOptions is the app the tests build: the committed context, the
// image tag the pipeline would pass, and construct paths in the metadata
// (the CDK CLI adds them too), so nag findings can be matched to resources.
// Error annotations stay annotations instead of aborting synthesis (the
// committed context makes them fail it), so a test can list them.
func testAppOptions(extra map[string]any) AppOptions {
	ctx := map[string]any{
		ImageTagContextKey:                            testImageTag,
		"aws:cdk:enable-path-metadata":                true,
		"@aws-cdk/core:annotationsInValidationReport": false,
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return AppOptions{Dir: "..", Context: ctx, SkipValidation: true}
}

// tmpl is one synthesized CloudFormation template as plain Go values, so
// tests can walk it (and run in parallel) without calling into jsii.
type tmpl map[string]any

var (
	fixOnce    sync.Once
	fix        *fixture
	errFixture error
)

func setup(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, errFixture = buildFixture() })
	if errFixture != nil {
		t.Fatalf("synthesize app: %v", errFixture)
	}
	return fix
}

func buildFixture() (f *fixture, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f = &fixture{envs: map[string]*Environment{}, assemblies: map[string]cxapi.CloudAssembly{}, templates: map[string]tmpl{}}
	for _, cfg := range Environments() {
		app, err := NewApp(testAppOptions(nil))
		if err != nil {
			return nil, err
		}
		e, err := NewEnvironment(app, cfg)
		if err != nil {
			return nil, err
		}
		ApplyNagChecks(app, true)
		f.envs[cfg.Name] = e
		f.assemblies[cfg.Name] = app.Synth(nil)
		for _, s := range e.Stacks() {
			raw := assertions.Template_FromStack(s, nil).ToJSON()
			b, err := json.Marshal(raw)
			if err != nil {
				return nil, err
			}
			var t tmpl
			if err := json.Unmarshal(b, &t); err != nil {
				return nil, err
			}
			f.templates[*s.StackName()] = t
		}
	}
	return f, nil
}

// template returns the synthesized template of one environment's layer.
func (f *fixture) template(t *testing.T, cfg EnvConfig, layer string) tmpl {
	t.Helper()
	tp, ok := f.templates[cfg.StackName(layer)]
	if !ok {
		t.Fatalf("no stack %s", cfg.StackName(layer))
	}
	return tp
}

// resource is one template resource with its logical ID.
type resource struct {
	ID         string
	Type       string
	Properties map[string]any
	Raw        map[string]any
}

func (tp tmpl) resources(typ string) []resource {
	var out []resource
	res, _ := tp["Resources"].(map[string]any)
	for id, r := range res {
		rm := r.(map[string]any)
		if typ != "" && rm["Type"] != typ {
			continue
		}
		props, _ := rm["Properties"].(map[string]any)
		out = append(out, resource{ID: id, Type: rm["Type"].(string), Properties: props, Raw: rm})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// one returns the only resource of a type, failing the test otherwise.
func (tp tmpl) one(t *testing.T, typ string) resource {
	t.Helper()
	rs := tp.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	return rs[0]
}

// byPath finds a resource by the end of its construct path.
func (tp tmpl) byPath(t *testing.T, suffix string) resource {
	t.Helper()
	for _, r := range tp.resources("") {
		md, _ := r.Raw["Metadata"].(map[string]any)
		if p, _ := md["aws:cdk:path"].(string); strings.HasSuffix(p, suffix) {
			return r
		}
	}
	t.Fatalf("no resource at path …%s", suffix)
	return resource{}
}

// ingressOf returns every ingress rule of a security group defined in the
// same template: inline rules and AWS::EC2::SecurityGroupIngress resources.
func (tp tmpl) ingressOf(t *testing.T, sg resource) []any {
	t.Helper()
	rules, _ := sg.Properties["SecurityGroupIngress"].([]any)
	for _, r := range tp.resources("AWS::EC2::SecurityGroupIngress") {
		if m, ok := r.Properties["GroupId"].(map[string]any); ok && m["Fn::GetAtt"] != nil && refTarget(t, m) == sg.ID {
			rules = append(rules, r.Properties)
		}
	}
	return rules
}

// pathOf returns a resource's construct path.
func (tp tmpl) pathOf(logicalID string) string {
	p, _ := get(map[string]any(tp), "Resources", logicalID, "Metadata", "aws:cdk:path").(string)
	return p
}

func (tp tmpl) outputs() map[string]map[string]any {
	out := map[string]map[string]any{}
	o, _ := tp["Outputs"].(map[string]any)
	for k, v := range o {
		out[k] = v.(map[string]any)
	}
	return out
}

// exportTarget resolves {"Fn::ImportValue": name} against the exporting
// stack: it returns that stack's name and the logical ID the export points
// to (through Ref or Fn::GetAtt), so tests can follow a wire across stacks.
func (f *fixture) exportTarget(t *testing.T, v any) (stack, logicalID string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an import: %s", js(v))
	}
	name, ok := m["Fn::ImportValue"].(string)
	if !ok {
		t.Fatalf("not an import: %s", js(v))
	}
	for sn, tp := range f.templates {
		for _, o := range tp.outputs() {
			exp, _ := o["Export"].(map[string]any)
			if exp == nil || exp["Name"] != name {
				continue
			}
			return sn, refTarget(t, o["Value"])
		}
	}
	t.Fatalf("export %s not found in any stack", name)
	return "", ""
}

// refTarget returns the logical ID behind a Ref or Fn::GetAtt.
func refTarget(t *testing.T, v any) string {
	t.Helper()
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		return ga[0].(string)
	}
	t.Fatalf("not a Ref/GetAtt: %s", js(v))
	return ""
}

// js renders a template fragment for error messages and substring checks.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// get walks a template fragment by keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// has fails the test with a readable message when the assertions library
// rejects the template (it reports failures by throwing, which jsii turns
// into a panic).
func has(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	fn()
}

// stackOf returns the CDK stack behind a name.
func (f *fixture) stackOf(t *testing.T, cfg EnvConfig, layer string) awscdk.Stack {
	t.Helper()
	for _, s := range f.envs[cfg.Name].Stacks() {
		if *s.StackName() == cfg.StackName(layer) {
			return s
		}
	}
	t.Fatalf("no stack %s", cfg.StackName(layer))
	return nil
}

var retentionDays = map[string]float64{
	"ONE_WEEK": 7, "ONE_MONTH": 30, "THREE_MONTHS": 90, "ONE_YEAR": 365,
}

func retention(t *testing.T, cfg EnvConfig) float64 {
	t.Helper()
	d, ok := retentionDays[string(cfg.LogRetention)]
	if !ok {
		t.Fatalf("add %s to retentionDays", cfg.LogRetention)
	}
	return d
}

// forEachEnv runs a subtest per environment.
func forEachEnv(t *testing.T, fn func(t *testing.T, f *fixture, cfg EnvConfig)) {
	f := setup(t)
	for _, cfg := range Environments() {
		t.Run(cfg.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, f, cfg)
		})
	}
}
