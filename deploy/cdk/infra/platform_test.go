package infra

import (
	"strings"
	"testing"
)

func TestRegistryAndCluster(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerPlatform)
		repo := tp.one(t, "AWS::ECR::Repository")
		if get(repo.Properties, "ImageScanningConfiguration", "ScanOnPush") != true {
			t.Error("ECR scan on push is off")
		}
		if repo.Properties["ImageTagMutability"] != "IMMUTABLE" {
			t.Errorf("tag mutability %v, want IMMUTABLE", repo.Properties["ImageTagMutability"])
		}
		policy, _ := get(repo.Properties, "LifecyclePolicy", "LifecyclePolicyText").(string)
		if !strings.Contains(policy, `"countType":"imageCountMoreThan","countNumber":100`) || !strings.Contains(policy, `"tagStatus":"untagged"`) {
			t.Errorf("lifecycle policy %s, want untagged cleanup and the last 100 images kept", policy)
		}

		cluster := tp.one(t, "AWS::ECS::Cluster")
		if js(cluster.Properties["ClusterSettings"]) != `[{"Name":"containerInsights","Value":"enabled"}]` {
			t.Errorf("cluster settings %s, want Container Insights enabled", js(cluster.Properties["ClusterSettings"]))
		}

		for _, name := range []string{"api", "worker", "migrate"} {
			lg := tp.byPath(t, "/"+title(name)+"Logs/Resource")
			if lg.Properties["LogGroupName"] != "/autopulse/"+cfg.Name+"/"+name || lg.Properties["RetentionInDays"] != retention(t, cfg) {
				t.Errorf("%s log group %s", name, js(lg.Properties))
			}
		}
	})
}

func TestLoadBalancer(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerPlatform)
		lb := tp.one(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		if lb.Properties["Scheme"] != "internet-facing" {
			t.Errorf("scheme %v", lb.Properties["Scheme"])
		}
		attrs := map[string]string{}
		for _, a := range lb.Properties["LoadBalancerAttributes"].([]any) {
			v, _ := get(a, "Value").(string)
			attrs[get(a, "Key").(string)] = v
		}
		for k, v := range map[string]string{
			"access_logs.s3.enabled":                          "true",
			"routing.http.drop_invalid_header_fields.enabled": "true",
			"deletion_protection.enabled":                     map[bool]string{true: "true", false: "false"}[cfg.RetainData],
		} {
			if attrs[k] != v {
				t.Errorf("ALB attribute %s = %q, want %q", k, attrs[k], v)
			}
		}

		tg := tp.one(t, "AWS::ElasticLoadBalancingV2::TargetGroup")
		want := map[string]any{
			"HealthCheckPath": HealthCheckPath, "TargetType": "ip", "Port": float64(AppPort), "Protocol": "HTTP", "Matcher": map[string]any{"HttpCode": "200"},
		}
		for k, v := range want {
			if js(tg.Properties[k]) != js(v) {
				t.Errorf("target group %s = %s, want %s", k, js(tg.Properties[k]), js(v))
			}
		}
		if !strings.Contains(js(tg.Properties["TargetGroupAttributes"]), `{"Key":"deregistration_delay.timeout_seconds","Value":"30"}`) {
			t.Errorf("deregistration delay %s, want 30 s", js(tg.Properties["TargetGroupAttributes"]))
		}

		cert := tp.one(t, "AWS::CertificateManager::Certificate")
		if cert.Properties["DomainName"] != cfg.APIDomain || js(cert.Properties["SubjectAlternativeNames"]) != js([]string{cfg.OriginDomain}) ||
			cert.Properties["ValidationMethod"] != "DNS" || !strings.Contains(js(cert.Properties["DomainValidationOptions"]), cfg.HostedZoneID) {
			t.Errorf("ALB certificate %s", js(cert.Properties))
		}

		var https, http resource
		for _, l := range tp.resources("AWS::ElasticLoadBalancingV2::Listener") {
			switch l.Properties["Port"] {
			case 443.0:
				https = l
			case 80.0:
				http = l
			}
		}
		if https.Properties["Protocol"] != "HTTPS" || refTarget(t, get(https.Properties, "Certificates", 0, "CertificateArn")) != cert.ID {
			t.Errorf("HTTPS listener %s", js(https.Properties))
		}
		if get(https.Properties, "DefaultActions", 0, "Type") != "forward" || refTarget(t, get(https.Properties, "DefaultActions", 0, "TargetGroupArn")) != tg.ID {
			t.Errorf("HTTPS listener does not forward to the API target group: %s", js(https.Properties["DefaultActions"]))
		}
		if js(get(http.Properties, "DefaultActions", 0, "RedirectConfig")) != `{"Port":"443","Protocol":"HTTPS","StatusCode":"HTTP_301"}` {
			t.Errorf("HTTP listener %s, want a permanent redirect to HTTPS", js(http.Properties["DefaultActions"]))
		}

		// The ALB only accepts CloudFront's origin-facing addresses.
		albSG := tp.byPath(t, "/AlbSecurityGroup/Resource")
		ingress := tp.ingressOf(t, albSG)
		if len(ingress) != 2 {
			t.Fatalf("ALB ingress %s", js(ingress))
		}
		for _, r := range ingress {
			if get(r, "SourcePrefixListId") != cfg.CloudFrontPrefixListID || get(r, "CidrIp") != nil {
				t.Errorf("ALB ingress rule %s is not limited to CloudFront", js(r))
			}
		}

		// The API tasks accept 8080 from the ALB and nothing else.
		apiIngress := tp.ingressOf(t, tp.byPath(t, "/ApiTasks/Resource"))
		if len(apiIngress) != 1 || refTarget(t, get(apiIngress[0], "SourceSecurityGroupId")) != albSG.ID || get(apiIngress[0], "FromPort") != float64(AppPort) {
			t.Errorf("API task ingress %s, want 8080 from the ALB only", js(apiIngress))
		}
		for _, g := range []string{"/WorkerTasks/Resource", "/MigrateTasks/Resource"} {
			if in := tp.ingressOf(t, tp.byPath(t, g)); len(in) != 0 {
				t.Errorf("%s accepts traffic: %s", g, js(in))
			}
		}

		rec := tp.one(t, "AWS::Route53::RecordSet")
		if rec.Properties["Name"] != cfg.OriginDomain+"." || rec.Properties["HostedZoneId"] != cfg.HostedZoneID || rec.Properties["Type"] != "A" ||
			refTarget(t, get(rec.Properties, "AliasTarget", "DNSName", "Fn::Join", 1, 1)) != lb.ID {
			t.Errorf("origin record %s, want %s aliased to the ALB", js(rec.Properties), cfg.OriginDomain)
		}
	})
}

func TestMigrationTask(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerPlatform)
		data := f.template(t, cfg, LayerData)
		td := tp.one(t, "AWS::ECS::TaskDefinition")
		c := get(td.Properties, "ContainerDefinitions", 0)
		if js(get(c, "Command")) != `["migrate","up"]` || get(c, "Name") != "migrate" {
			t.Errorf("migrate container %s %s", js(get(c, "Name")), js(get(c, "Command")))
		}
		assertHardened(t, c)
		if get(c, "PortMappings") != nil {
			t.Errorf("migration task maps ports %s", js(get(c, "PortMappings")))
		}
		if td.Properties["Family"] != "autopulse-"+cfg.Name+"-migrate" {
			t.Errorf("family %v", td.Properties["Family"])
		}

		env := envMap(c)
		if env["DATABASE_URL"] != `"postgres:///autopulse?sslmode=require"` || env["AUTOPULSE_ENV"] != `"production"` {
			t.Errorf("migrate env %v", env)
		}
		secrets := secretMap(c)
		master := data.byPath(t, "/MasterSecret/Resource")
		app := data.byPath(t, "/AppDbSecret/Resource")
		for name, want := range map[string]struct{ secret, field string }{
			"PGUSER":                    {master.ID, "username"},
			"PGPASSWORD":                {master.ID, "password"},
			"AUTOPULSE_APP_DB_PASSWORD": {app.ID, "password"},
			"AUTOPULSE_JWT_SECRET":      {data.byPath(t, "/JwtSecret/Resource").ID, ""},
		} {
			v, ok := secrets[name]
			if !ok {
				t.Errorf("migrate secret %s missing", name)
				continue
			}
			assertSecretRef(t, f, data, v, want.secret, want.field)
		}
		if len(secrets) != 4 {
			t.Errorf("migrate secrets %v, want only the owner login, the app password and the JWT key", keys(secrets))
		}
		if !strings.Contains(js(get(c, "Image")), ":"+testImageTag) {
			t.Errorf("migrate image %s does not use tag %s", js(get(c, "Image")), testImageTag)
		}

		outs := tp.outputs()
		for _, k := range []string{OutputClusterName, OutputMigrateTaskDef, OutputMigrateSecurityGroup, OutputMigrateContainer, OutputMigrateLogGroup, OutputRepositoryName, OutputRepositoryURI} {
			if _, ok := outs[k]; !ok {
				t.Errorf("output %s missing", k)
			}
		}
		if refTarget(t, outs[OutputMigrateTaskDef]["Value"]) != td.ID {
			t.Errorf("output %s points at %s", OutputMigrateTaskDef, js(outs[OutputMigrateTaskDef]["Value"]))
		}
		if !strings.HasSuffix(tp.pathOf(refTarget(t, outs[OutputMigrateSecurityGroup]["Value"])), "/MigrateTasks/Resource") {
			t.Errorf("output %s is not the migrate group", OutputMigrateSecurityGroup)
		}
	})
}

// assertHardened checks what every AutoPulse container shares.
func assertHardened(t *testing.T, c any) {
	t.Helper()
	if get(c, "ReadonlyRootFilesystem") != true {
		t.Error("root filesystem is writable")
	}
	if get(c, "User") != ContainerUser {
		t.Errorf("user %v, want %s", get(c, "User"), ContainerUser)
	}
	if get(c, "StopTimeout") != float64(StopTimeoutSeconds) {
		t.Errorf("stop timeout %v, want %d", get(c, "StopTimeout"), StopTimeoutSeconds)
	}
	if get(c, "LogConfiguration", "LogDriver") != "awslogs" {
		t.Errorf("log driver %s", js(get(c, "LogConfiguration")))
	}
	if js(get(c, "MountPoints")) != `[{"ContainerPath":"/tmp","ReadOnly":false,"SourceVolume":"tmp"}]` {
		t.Errorf("mount points %s, want a writable /tmp only", js(get(c, "MountPoints")))
	}
}

// envMap returns a container's plain environment, values rendered as JSON.
func envMap(c any) map[string]string {
	out := map[string]string{}
	for _, e := range get(c, "Environment").([]any) {
		out[get(e, "Name").(string)] = js(get(e, "Value"))
	}
	return out
}

func secretMap(c any) map[string]any {
	out := map[string]any{}
	list, _ := get(c, "Secrets").([]any)
	for _, e := range list {
		out[get(e, "Name").(string)] = get(e, "ValueFrom")
	}
	return out
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

// assertSecretRef checks that an ECS secret's ValueFrom names the given
// Secrets Manager secret (in the data stack) and JSON field.
func assertSecretRef(t *testing.T, f *fixture, data tmpl, valueFrom any, secretID, field string) {
	t.Helper()
	s := js(valueFrom)
	if field == "" {
		if _, target := f.exportTarget(t, valueFrom); target != secretID {
			t.Errorf("ValueFrom %s, want secret %s", s, secretID)
		}
		return
	}
	if !strings.Contains(s, ":"+field+"::") {
		t.Errorf("ValueFrom %s does not select field %s", s, field)
	}
	parts := get(valueFrom, "Fn::Join", 1).([]any)
	if len(parts) == 0 {
		t.Fatalf("ValueFrom %s", s)
	}
	ref := parts[0]
	if _, ok := get(ref, "Fn::ImportValue").(string); ok {
		_, target := f.exportTarget(t, ref)
		ref = map[string]any{"Ref": target}
	}
	target := refTarget(t, ref)
	// The master secret is reached through its attachment.
	if att := get(map[string]any(data), "Resources", target); get(att, "Type") == "AWS::SecretsManager::SecretTargetAttachment" {
		target = refTarget(t, get(att, "Properties", "SecretId"))
	}
	if target != secretID {
		t.Errorf("ValueFrom %s reads %s, want %s", s, target, secretID)
	}
}
