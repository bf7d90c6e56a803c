package infra

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// CloudFront managed policy IDs (fixed by AWS).
const (
	cachingDisabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	allViewer        = "216adef6-5c7f-47e4-b989-5492eafa07d3"
)

func TestEdge(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerEdge)
		dist := tp.one(t, "AWS::CloudFront::Distribution")
		dc := dist.Properties["DistributionConfig"]
		cert := tp.one(t, "AWS::CertificateManager::Certificate")
		static := tp.byPath(t, "/StaticAssets/Resource")

		if js(get(dc, "Aliases")) != js([]string{cfg.APIDomain}) {
			t.Errorf("aliases %s", js(get(dc, "Aliases")))
		}
		if refTarget(t, get(dc, "ViewerCertificate", "AcmCertificateArn")) != cert.ID ||
			get(dc, "ViewerCertificate", "MinimumProtocolVersion") != "TLSv1.2_2021" || get(dc, "ViewerCertificate", "SslSupportMethod") != "sni-only" {
			t.Errorf("viewer certificate %s", js(get(dc, "ViewerCertificate")))
		}
		if cert.Properties["DomainName"] != cfg.APIDomain || !strings.Contains(js(cert.Properties["DomainValidationOptions"]), `"HostedZoneId":"`+cfg.HostedZoneID+`"`) {
			t.Errorf("CloudFront certificate %s", js(cert.Properties))
		}

		origins := map[string]any{}
		var albOrigin, s3Origin string
		for _, o := range get(dc, "Origins").([]any) {
			id := get(o, "Id").(string)
			origins[id] = o
			if get(o, "DomainName") == cfg.OriginDomain {
				albOrigin = id
			} else {
				s3Origin = id
			}
		}
		if albOrigin == "" || s3Origin == "" || len(origins) != 2 {
			t.Fatalf("origins %s, want the ALB (%s) and the static bucket", js(origins), cfg.OriginDomain)
		}
		if js(get(origins[albOrigin], "CustomOriginConfig", "OriginProtocolPolicy")) != `"https-only"` ||
			js(get(origins[albOrigin], "CustomOriginConfig", "OriginSSLProtocols")) != `["TLSv1.2"]` {
			t.Errorf("ALB origin %s, want HTTPS only with TLS 1.2", js(origins[albOrigin]))
		}
		oac := tp.one(t, "AWS::CloudFront::OriginAccessControl")
		if refTarget(t, get(origins[s3Origin], "DomainName")) != static.ID || refTarget(t, get(origins[s3Origin], "OriginAccessControlId")) != oac.ID ||
			get(origins[s3Origin], "S3OriginConfig", "OriginAccessIdentity") != "" {
			t.Errorf("static origin %s, want the bucket through OAC", js(origins[s3Origin]))
		}
		if get(oac.Properties, "OriginAccessControlConfig", "SigningBehavior") != "always" || get(oac.Properties, "OriginAccessControlConfig", "OriginAccessControlOriginType") != "s3" {
			t.Errorf("OAC %s", js(oac.Properties))
		}

		apiBehavior := func(where string, b any) {
			if get(b, "TargetOriginId") != albOrigin || get(b, "CachePolicyId") != cachingDisabled || get(b, "OriginRequestPolicyId") != allViewer ||
				get(b, "ViewerProtocolPolicy") != "redirect-to-https" || len(get(b, "AllowedMethods").([]any)) != 7 {
				t.Errorf("%s behavior %s, want the ALB, no caching, every header/query string forwarded, all methods", where, js(b))
			}
		}
		apiBehavior("default", get(dc, "DefaultCacheBehavior"))
		behaviors := map[string]any{}
		for _, b := range get(dc, "CacheBehaviors").([]any) {
			behaviors[get(b, "PathPattern").(string)] = b
		}
		apiBehavior(APIPathPattern, behaviors[APIPathPattern])
		sb := behaviors[StaticPathPattern]
		if get(sb, "TargetOriginId") != s3Origin || get(sb, "CachePolicyId") != cachingOptimized || js(get(sb, "AllowedMethods")) != `["GET","HEAD"]` {
			t.Errorf("%s behavior %s", StaticPathPattern, js(sb))
		}

		// Only CloudFront, for this distribution, may read the static bucket.
		var policy string
		for _, p := range tp.resources("AWS::S3::BucketPolicy") {
			if refTarget(t, p.Properties["Bucket"]) == static.ID {
				policy = js(p.Properties["PolicyDocument"])
			}
		}
		if !strings.Contains(policy, `"Principal":{"Service":"cloudfront.amazonaws.com"}`) || !strings.Contains(policy, `":distribution/",{"Ref":"`+dist.ID+`"}`) ||
			!strings.Contains(policy, `"Action":"s3:GetObject"`) {
			t.Errorf("static bucket policy %s", policy)
		}

		acl := tp.one(t, "AWS::WAFv2::WebACL")
		if refTarget(t, get(dc, "WebACLId")) != acl.ID || acl.Properties["Scope"] != "CLOUDFRONT" {
			t.Errorf("web ACL %s / %s", js(get(dc, "WebACLId")), acl.Properties["Scope"])
		}
		if get(dc, "Logging", "Bucket") == nil {
			t.Error("CloudFront access logging is off")
		}

		records := map[string]resource{}
		for _, r := range tp.resources("AWS::Route53::RecordSet") {
			records[r.Properties["Type"].(string)] = r
		}
		for _, typ := range []string{"A", "AAAA"} {
			r, ok := records[typ]
			if !ok {
				t.Errorf("%s record missing", typ)
				continue
			}
			if r.Properties["Name"] != cfg.APIDomain+"." || r.Properties["HostedZoneId"] != cfg.HostedZoneID ||
				refTarget(t, get(r.Properties, "AliasTarget", "DNSName")) != dist.ID {
				t.Errorf("%s record %s, want %s aliased to the distribution", typ, js(r.Properties), cfg.APIDomain)
			}
		}

		// No reference crosses regions: CloudFront finds the ALB by name.
		if s := js(tp["Resources"]); strings.Contains(s, "Fn::ImportValue") || strings.Contains(s, "Fn::GetStackOutput") || strings.Contains(s, "Custom::") {
			t.Error("edge stack imports values or uses custom resources")
		}
	})
}

// TestEdgeIsAlwaysInUsEast1 moves an environment to another region: its
// regional stacks follow, the edge stack (certificate, WAF) does not.
func TestEdgeIsAlwaysInUsEast1(t *testing.T) {
	app, err := NewApp(testAppOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Staging()
	cfg.Region = "eu-west-1"
	cfg.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b"}
	cfg.CloudFrontPrefixListID = "pl-4fa04526"
	env, err := NewEnvironment(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := *env.Edge.Region(); r != EdgeRegion {
		t.Errorf("edge stack in %s", r)
	}
	for _, s := range env.Stacks()[:5] {
		if r := *s.Region(); r != "eu-west-1" {
			t.Errorf("%s in %s, want eu-west-1", *s.StackName(), r)
		}
	}
	tpl := assertions.Template_FromStack(env.Edge.Stack, nil)
	has(t, "edge certificate for the API domain", func() {
		tpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{"DomainName": cfg.APIDomain})
	})
	has(t, "CloudFront reaches the eu-west-1 ALB by its origin name", func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), &map[string]any{
			"DistributionConfig": assertions.Match_ObjectLike(&map[string]any{
				"Origins": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"DomainName": cfg.OriginDomain})}),
			}),
		})
	})
	has(t, "eu-west-1 ALB admits the eu-west-1 CloudFront prefix list", func() {
		assertions.Template_FromStack(env.Platform.Stack, nil).HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
			"SourcePrefixListId": "pl-4fa04526", "FromPort": 443,
		})
	})
}
