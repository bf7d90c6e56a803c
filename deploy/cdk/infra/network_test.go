package infra

import (
	"strings"
	"testing"
)

func TestNetwork(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerNetwork)

		vpc := tp.one(t, "AWS::EC2::VPC")
		if vpc.Properties["CidrBlock"] != cfg.VpcCidr {
			t.Errorf("VPC CIDR %v, want %s", vpc.Properties["CidrBlock"], cfg.VpcCidr)
		}

		subnets := tp.resources("AWS::EC2::Subnet")
		if len(subnets) != 6 {
			t.Fatalf("%d subnets, want 6 (public, private, isolated in 2 zones)", len(subnets))
		}
		kinds := map[string][]string{}
		for _, s := range subnets {
			kind := js(get(s.Properties, "Tags"))
			for _, k := range []string{"Public", "Private", "Isolated"} {
				if strings.Contains(kind, `"aws-cdk:subnet-type","Value":"`+k+`"`) {
					kinds[k] = append(kinds[k], s.Properties["AvailabilityZone"].(string))
				}
			}
		}
		for _, k := range []string{"Public", "Private", "Isolated"} {
			if got := strings.Join(kinds[k], ","); got != strings.Join(cfg.AvailabilityZones, ",") {
				t.Errorf("%s subnets in %q, want one in each of %v", k, got, cfg.AvailabilityZones)
			}
		}

		if n := len(tp.resources("AWS::EC2::NatGateway")); n != cfg.NatGateways {
			t.Errorf("%d NAT gateways, want %d", n, cfg.NatGateways)
		}
		// Isolated subnets have no default route at all.
		for _, rt := range tp.resources("AWS::EC2::Route") {
			if strings.Contains(rt.ID, "isolated") {
				t.Errorf("isolated subnet route %s exists", rt.ID)
			}
		}

		fl := tp.one(t, "AWS::EC2::FlowLog")
		if fl.Properties["TrafficType"] != "ALL" || fl.Properties["LogDestinationType"] != "cloud-watch-logs" || fl.Properties["ResourceType"] != "VPC" {
			t.Errorf("flow log %s, want ALL traffic of the VPC to CloudWatch Logs", js(fl.Properties))
		}
		lg := tp.one(t, "AWS::Logs::LogGroup")
		if refTarget(t, fl.Properties["LogGroupName"]) != lg.ID {
			t.Errorf("flow log writes to %s, want %s", js(fl.Properties["LogGroupName"]), lg.ID)
		}
		if lg.Properties["RetentionInDays"] != retention(t, cfg) {
			t.Errorf("flow log retention %v, want %v", lg.Properties["RetentionInDays"], retention(t, cfg))
		}

		ep := tp.one(t, "AWS::EC2::VPCEndpoint")
		if ep.Properties["VpcEndpointType"] != "Gateway" || !strings.Contains(js(ep.Properties["ServiceName"]), ".s3") {
			t.Errorf("want an S3 gateway endpoint, got %s", js(ep.Properties))
		}

		if _, ok := tp.outputs()[OutputPrivateSubnets]; !ok {
			t.Errorf("output %s missing", OutputPrivateSubnets)
		}
	})
}
