package infra

import (
	"strings"
	"testing"
)

// TestArchitectureWiring follows the boxes and arrows of the deployment
// diagram (implementation plan §9) through the templates of each
// environment:
//
//	Route 53 -> CloudFront -> ALB -> ECS (API)     ECR -> ECS
//	CloudFront -> S3 static files (OAC)            ECS -> RDS PostgreSQL
//	CloudWatch watching the ALB, ECS and RDS       (no ElastiCache: see TestNoElastiCache)
func TestArchitectureWiring(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		edge := f.template(t, cfg, LayerEdge)
		platform := f.template(t, cfg, LayerPlatform)
		services := f.template(t, cfg, LayerServices)
		data := f.template(t, cfg, LayerData)
		obs := f.template(t, cfg, LayerObservability)

		// Route 53 -> CloudFront.
		dist := edge.one(t, "AWS::CloudFront::Distribution")
		for _, r := range edge.resources("AWS::Route53::RecordSet") {
			if r.Properties["Name"] != cfg.APIDomain+"." || refTarget(t, get(r.Properties, "AliasTarget", "DNSName")) != dist.ID {
				t.Errorf("Route 53 -> CloudFront broken: %s", js(r.Properties))
			}
		}

		// CloudFront -> ALB: the default origin's host name is the record
		// that the platform stack aliases to the load balancer.
		dc := dist.Properties["DistributionConfig"]
		defaultOrigin := get(dc, "DefaultCacheBehavior", "TargetOriginId")
		var originHost any
		for _, o := range get(dc, "Origins").([]any) {
			if get(o, "Id") == defaultOrigin {
				originHost = get(o, "DomainName")
			}
		}
		lb := platform.one(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		rec := platform.one(t, "AWS::Route53::RecordSet")
		if originHost != cfg.OriginDomain || rec.Properties["Name"] != cfg.OriginDomain+"." ||
			!strings.Contains(js(get(rec.Properties, "AliasTarget", "DNSName")), `{"Fn::GetAtt":["`+lb.ID+`","DNSName"]}`) {
			t.Errorf("CloudFront -> ALB broken: origin %v, record %s", originHost, js(rec.Properties))
		}

		// ALB -> ECS: HTTPS listener -> target group <- API service.
		tg := platform.one(t, "AWS::ElasticLoadBalancingV2::TargetGroup")
		forwards := false
		for _, l := range platform.resources("AWS::ElasticLoadBalancingV2::Listener") {
			if refTarget(t, l.Properties["LoadBalancerArn"]) == lb.ID && get(l.Properties, "DefaultActions", 0, "Type") == "forward" &&
				refTarget(t, get(l.Properties, "DefaultActions", 0, "TargetGroupArn")) == tg.ID {
				forwards = true
			}
		}
		api := services.byPath(t, "/Api/Service")
		_, registered := f.exportTarget(t, get(api.Properties, "LoadBalancers", 0, "TargetGroupArn"))
		if !forwards || registered != tg.ID {
			t.Errorf("ALB -> ECS broken: listener forwards=%v, service registers with %s (want %s)", forwards, registered, tg.ID)
		}

		// ECR -> ECS: both services and the migration run the repository's image.
		repo := platform.one(t, "AWS::ECR::Repository")
		for _, td := range append(services.resources("AWS::ECS::TaskDefinition"), platform.resources("AWS::ECS::TaskDefinition")...) {
			img := get(td.Properties, "ContainerDefinitions", 0, "Image", "Fn::Join", 1).([]any)
			name := img[len(img)-2]
			if m, ok := name.(map[string]any); ok && m["Fn::ImportValue"] != nil {
				_, id := f.exportTarget(t, name)
				name = map[string]any{"Ref": id}
			}
			if refTarget(t, name) != repo.ID {
				t.Errorf("ECR -> ECS broken for %s: image %s", td.ID, js(img))
			}
		}

		// CloudFront -> S3 static files, through Origin Access Control only.
		var staticOrigin any
		for _, b := range get(dc, "CacheBehaviors").([]any) {
			if get(b, "PathPattern") == StaticPathPattern {
				for _, o := range get(dc, "Origins").([]any) {
					if get(o, "Id") == get(b, "TargetOriginId") {
						staticOrigin = o
					}
				}
			}
		}
		if refTarget(t, get(staticOrigin, "DomainName")) != edge.byPath(t, "/StaticAssets/Resource").ID || get(staticOrigin, "OriginAccessControlId") == nil {
			t.Errorf("CloudFront -> S3 broken: %s", js(staticOrigin))
		}

		// ECS -> RDS: the API service's group may open 5432 on the database's group.
		apiSG := get(api.Properties, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups", 0)
		_, apiSGID := f.exportTarget(t, apiSG)
		dbSG := data.byPath(t, "/DatabaseSecurityGroup/Resource")
		linked := false
		for _, r := range platform.resources("AWS::EC2::SecurityGroupIngress") {
			if get(r.Properties, "GroupId", "Fn::ImportValue") == nil {
				continue
			}
			if _, g := f.exportTarget(t, r.Properties["GroupId"]); g == dbSG.ID && refTarget(t, r.Properties["SourceSecurityGroupId"]) == apiSGID {
				linked = r.Properties["FromPort"] == 5432.0
			}
		}
		if !linked {
			t.Error("ECS -> RDS broken: no 5432 rule from the API service's group to the database's group")
		}
		// ... and the service is told where the database is.
		env := get(services.byPath(t, "/ApiTaskDefinition/Resource").Properties, "ContainerDefinitions", 0, "Environment").([]any)
		for _, e := range env {
			if get(e, "Name") == "PGHOST" {
				if _, id := f.exportTarget(t, get(e, "Value")); id != data.one(t, "AWS::RDS::DBInstance").ID {
					t.Errorf("PGHOST points at %s", id)
				}
			}
		}

		// CloudWatch watches the ALB, the services and the database.
		obsJSON := js(obs["Resources"])
		for _, ref := range []struct{ stack, id string }{
			{LayerPlatform, lb.ID}, {LayerPlatform, tg.ID},
			{LayerServices, api.ID}, {LayerServices, services.byPath(t, "/Worker/Service").ID},
			{LayerData, data.one(t, "AWS::RDS::DBInstance").ID},
		} {
			if !strings.Contains(obsJSON, cfg.StackName(ref.stack)+":ExportsOutput") || !strings.Contains(obsJSON, ref.id) {
				t.Errorf("CloudWatch does not watch %s/%s", ref.stack, ref.id)
			}
		}
	})
}
