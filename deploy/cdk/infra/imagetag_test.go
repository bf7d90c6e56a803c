package infra

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestImageTagRules: task definitions run the imageTag context value; prod
// refuses to synthesize without one, and "latest" is refused everywhere
// (repositories are immutable, so "latest" would never move).
func TestImageTagRules(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		tag     any // nil: no imageTag context at all
		errText string
		image   string
	}{
		{"prod without tag", "prod", nil, "prod needs an explicit image", ":unset"},
		{"latest refused", "staging", "latest", `imageTag "latest" is not allowed`, ":latest"},
		{"dev without tag warns", "dev", nil, "", ":unset"},
		{"sha deploys", "prod", "0a1b2c3d", "", ":0a1b2c3d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testAppOptions(nil)
			if tt.tag == nil {
				delete(opts.Context, ImageTagContextKey)
			} else {
				opts.Context[ImageTagContextKey] = tt.tag
			}
			app, err := NewApp(opts)
			if err != nil {
				t.Fatal(err)
			}
			envs, err := Build(app, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			services := envs[0].Services.Stack
			ann := assertions.Annotations_FromStack(services)
			errs := *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*imageTag.*|.*explicit image.*")))
			if tt.errText == "" && len(errs) > 0 {
				t.Errorf("unexpected error: %s", js(errs[0]))
			}
			if tt.errText != "" {
				has(t, "error annotation", func() {
					ann.HasError(jsii.String("/"+*services.StackName()), assertions.Match_StringLikeRegexp(jsii.String(".*"+regexpQuote(tt.errText)+".*")))
				})
			}
			if tt.env == "dev" && tt.tag == nil {
				has(t, "warning annotation", func() {
					ann.HasWarning(jsii.String("/"+*services.StackName()), assertions.Match_StringLikeRegexp(jsii.String(".*no imageTag context.*")))
				})
			}
			tpl := assertions.Template_FromStack(services, nil).ToJSON()
			if !strings.Contains(js(tpl), `"`+tt.image+`"`) {
				t.Errorf("task definitions do not use image tag %s", tt.image)
			}
		})
	}
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(`"`, `.`, `(`, `\(`, `)`, `\)`, `.`, `\.`)
	return r.Replace(s)
}
