package infra

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Stack layers, in deployment order.
const (
	LayerNetwork       = "Network"
	LayerData          = "Data"
	LayerPlatform      = "Platform"
	LayerServices      = "Services"
	LayerObservability = "Observability"
	LayerEdge          = "Edge"
)

// Environment is one environment's complete set of stacks.
type Environment struct {
	Config        EnvConfig
	Network       *NetworkStack
	Data          *DataStack
	Platform      *PlatformStack
	Services      *ServicesStack
	Observability *ObservabilityStack
	Edge          *EdgeStack
}

// Stacks returns the environment's stacks in deployment order.
func (e *Environment) Stacks() []awscdk.Stack {
	return []awscdk.Stack{e.Network.Stack, e.Data.Stack, e.Platform.Stack, e.Services.Stack, e.Observability.Stack, e.Edge.Stack}
}

// NewEnvironment adds one environment's stacks to scope:
//
//	Network -> Data -> Platform -> Services -> Observability   (cfg.Region)
//	                      Platform -> Edge                      (us-east-1)
//
// The deploy pipeline deploys Network, Data and Platform, runs the migration
// task, then deploys Services, Observability and Edge.
func NewEnvironment(scope constructs.Construct, cfg EnvConfig) (*Environment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Environment{Config: cfg}
	e.Network = NewNetworkStack(scope, cfg.StackName(LayerNetwork), cfg)
	e.Data = NewDataStack(scope, cfg.StackName(LayerData), cfg, e.Network)
	e.Platform = NewPlatformStack(scope, cfg.StackName(LayerPlatform), cfg, e.Network, e.Data)
	e.Services = NewServicesStack(scope, cfg.StackName(LayerServices), cfg, e.Data, e.Platform)
	e.Observability = NewObservabilityStack(scope, cfg.StackName(LayerObservability), cfg, e.Data, e.Platform, e.Services)
	e.Edge = NewEdgeStack(scope, cfg.StackName(LayerEdge), cfg)
	// CloudFront reaches the ALB by DNS name, not by reference, so the
	// order has to be stated: the origin record must exist first.
	e.Edge.AddStackDependency(e.Platform.Stack, jsii.String("CloudFront's origin is the platform stack's ALB record"))

	// cfn-lint's resource schemas do not (yet) accept Tags on these types.
	untaggable := &awscdk.TagProps{ExcludeResourceTypes: jsii.Strings(
		"AWS::CloudWatch::Dashboard",
		"AWS::ElasticLoadBalancingV2::Listener",
		"AWS::ApplicationAutoScaling::ScalableTarget",
	)}
	for _, s := range e.Stacks() {
		awscdk.Tags_Of(s).Add(jsii.String("project"), jsii.String("autopulse"), untaggable)
		awscdk.Tags_Of(s).Add(jsii.String("environment"), jsii.String(cfg.Name), untaggable)
	}
	return e, nil
}

// AppOptions configure NewApp.
type AppOptions struct {
	// Dir holds cdk.json and cdk.context.json (default ".").
	Dir string
	// Context is applied after the committed and the CLI's context (flags, tests).
	Context map[string]any
	// SkipValidation turns off CDK's built-in CloudFormation validation at
	// synthesis (tests re-synthesize often; cfn-lint runs in CI anyway).
	SkipValidation bool
}

// NewApp builds the CDK app with the context committed next to the code
// (cdk.json's "context" and cdk.context.json), so `go run .` outside the
// CDK CLI synthesizes exactly what `cdk synth` does. Context passed by the
// CLI (-c key=value) overrides the committed context; opts.Context overrides both.
func NewApp(opts AppOptions) (awscdk.App, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	ctx := map[string]any{}
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	if err := readJSON(dir, "cdk.json", &cdkJSON); err != nil {
		return nil, err
	}
	for k, v := range cdkJSON.Context {
		ctx[k] = v
	}
	var committed map[string]any
	if err := readJSON(dir, "cdk.context.json", &committed); err != nil {
		return nil, err
	}
	for k, v := range committed {
		ctx[k] = v
	}
	props := &awscdk.AppProps{Context: &ctx}
	if len(opts.Context) > 0 {
		post := map[string]any{}
		for k, v := range opts.Context {
			post[k] = v
		}
		props.PostCliContext = &post
	}
	if opts.SkipValidation {
		props.BuiltinCloudFormationValidation = jsii.Bool(false)
	}
	return awscdk.NewApp(props), nil
}

// Build adds the named environments (all of them when names is empty) to
// app and applies the cdk-nag checks.
func Build(app awscdk.App, names ...string) ([]*Environment, error) {
	cfgs := Environments()
	if len(names) > 0 {
		cfgs = cfgs[:0:0]
		for _, n := range names {
			c, err := EnvironmentByName(n)
			if err != nil {
				return nil, err
			}
			cfgs = append(cfgs, c)
		}
	}
	var envs []*Environment
	for _, c := range cfgs {
		e, err := NewEnvironment(app, c)
		if err != nil {
			return nil, err
		}
		envs = append(envs, e)
	}
	ApplyNagChecks(app, false)
	return envs, nil
}

// readJSON decodes dir/name, a file of the app's own directory.
func readJSON(dir, name string, v any) error {
	b, err := fs.ReadFile(os.DirFS(dir), name)
	if err != nil {
		return fmt.Errorf("read CDK context: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
