// Command cdk synthesizes AutoPulse's AWS infrastructure: for each of dev,
// staging and prod, the Network, Data, Platform, Services, Observability and
// Edge stacks. It needs no AWS credentials and makes no lookups.
//
//	CDK_OUTDIR=cdk.out go run . -image-tag <git sha> [-env dev,staging,prod]
//
// The CDK CLI runs the same program (cdk.json "app") and passes -c
// imageTag=<git sha> instead of the flag. Synthesis fails on any cdk-nag
// error, and for prod without an image tag.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/autopulse/autopulse/deploy/cdk/infra"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	imageTag := flag.String("image-tag", "", "image tag the task definitions run (same as -c "+infra.ImageTagContextKey+"=...)")
	envs := flag.String("env", "", "comma-separated environments to synthesize (default: all)")
	flag.Parse()
	defer jsii.Close()
	// jsii reports JavaScript exceptions (a failed synthesis) as panics.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesis failed (see the report above): %v", r)
		}
	}()

	extra := map[string]any{}
	if *imageTag != "" {
		extra[infra.ImageTagContextKey] = *imageTag
	}
	app, err := infra.NewApp(infra.AppOptions{Context: extra})
	if err != nil {
		return err
	}
	var names []string
	if *envs != "" {
		names = strings.Split(*envs, ",")
	}
	if _, err := infra.Build(app, names...); err != nil {
		return err
	}
	return report(app.Synth(nil))
}

// report prints the warnings and errors that did not stop synthesis.
func report(assembly cxapi.CloudAssembly) error {
	dir := *assembly.Directory()
	msgs, err := infra.ReadMessages(dir)
	if err != nil {
		return err
	}
	errors := 0
	for _, m := range msgs {
		if m.Level == "info" {
			continue
		}
		fmt.Fprintln(os.Stderr, m)
		if m.Level == "error" {
			errors++
		}
	}
	if errors > 0 {
		return fmt.Errorf("%d error annotations", errors)
	}
	fmt.Fprintf(os.Stderr, "synthesized %d stacks into %s\n", len(*assembly.Stacks()), dir)
	return nil
}
