package infra

import (
	"strconv"
	"strings"
	"testing"
)

func TestAppContainers(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerServices)
		data := f.template(t, cfg, LayerData)
		platform := f.template(t, cfg, LayerPlatform)

		for _, role := range []struct {
			name, command string
			port          bool
		}{{"api", `["serve"]`, true}, {"worker", `["worker"]`, false}} {
			td := tp.byPath(t, "/"+title(role.name)+"TaskDefinition/Resource")
			p := td.Properties
			c := get(p, "ContainerDefinitions", 0)
			if get(c, "Name") != role.name || js(get(c, "Command")) != role.command {
				t.Errorf("%s container %s %s", role.name, js(get(c, "Name")), js(get(c, "Command")))
			}
			assertHardened(t, c)
			wantCPU, wantMem := cfg.APICPU, cfg.APIMemoryMiB
			if role.name == "worker" {
				wantCPU, wantMem = cfg.WorkerCPU, cfg.WorkerMemoryMiB
			}
			if p["Cpu"] != itoa(wantCPU) || p["Memory"] != itoa(wantMem) || js(p["RequiresCompatibilities"]) != `["FARGATE"]` || p["NetworkMode"] != "awsvpc" {
				t.Errorf("%s task size/mode cpu=%v mem=%v %s %v", role.name, p["Cpu"], p["Memory"], js(p["RequiresCompatibilities"]), p["NetworkMode"])
			}

			ports := js(get(c, "PortMappings"))
			if role.port && ports != `[{"ContainerPort":8080,"Name":"http","Protocol":"tcp"}]` {
				t.Errorf("api port mappings %s, want 8080 only", ports)
			}
			if !role.port && ports != "null" {
				t.Errorf("worker maps ports %s", ports)
			}
			if strings.Contains(ports, "9090") {
				t.Error("metrics port is mapped")
			}

			env := envMap(c)
			want := map[string]string{
				"AUTOPULSE_ENV":              `"production"`,
				"AUTOPULSE_LISTEN":           `"0.0.0.0:8080"`,
				"AUTOPULSE_METRICS_LISTEN":   `"0.0.0.0:9090"`,
				"AUTOPULSE_SHUTDOWN_TIMEOUT": `"25s"`,
				"DATABASE_URL":               `"postgres:///autopulse?sslmode=require"`,
				"AUTOPULSE_BLOB_S3_PREFIX":   `"recordings/"`,
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s env %s = %s, want %s", role.name, k, env[k], v)
				}
			}
			extra := 0
			if role.name == "api" {
				// Jobs run only in the worker service; two proxies in front.
				for k, v := range map[string]string{"AUTOPULSE_WORKERS": `"false"`, "AUTOPULSE_PROXY_HOPS": `"2"`} {
					if env[k] != v {
						t.Errorf("api env %s = %s, want %s", k, env[k], v)
					}
					extra++
				}
			} else if _, ok := env["AUTOPULSE_WORKERS"]; ok {
				t.Error("worker sets AUTOPULSE_WORKERS")
			}
			if env["AUTOPULSE_BLOB_S3_SSE"] != `"aws:kms"` {
				t.Errorf("%s blob SSE %s, want aws:kms", role.name, env["AUTOPULSE_BLOB_S3_SSE"])
			}
			for k, suffix := range map[string]string{
				"PGHOST": "/Postgres/Resource", "PGPORT": "/Postgres/Resource",
				"AUTOPULSE_BLOB_S3_BUCKET": "/Recordings/Resource", "AUTOPULSE_BLOB_S3_KMS_KEY_ID": "/DataKey/Resource",
			} {
				var v any
				for _, e := range get(c, "Environment").([]any) {
					if get(e, "Name") == k {
						v = get(e, "Value")
					}
				}
				if v == nil {
					t.Errorf("%s env %s missing", role.name, k)
					continue
				}
				if _, target := f.exportTarget(t, v); !strings.HasSuffix(data.pathOf(target), suffix) {
					t.Errorf("%s env %s comes from %s, want …%s", role.name, k, data.pathOf(target), suffix)
				}
			}
			if len(env) != len(want)+5+extra {
				t.Errorf("%s has unexpected environment variables: %v", role.name, keys(env))
			}

			secrets := secretMap(c)
			appSecret := data.byPath(t, "/AppDbSecret/Resource").ID
			assertSecretRef(t, f, data, secrets["PGUSER"], appSecret, "username")
			assertSecretRef(t, f, data, secrets["PGPASSWORD"], appSecret, "password")
			assertSecretRef(t, f, data, secrets["AUTOPULSE_JWT_SECRET"], data.byPath(t, "/JwtSecret/Resource").ID, "")
			for _, ps := range ProviderSecrets {
				assertSecretRef(t, f, data, secrets[ps.EnvVar], data.byPath(t, "/Provider-"+ps.Name+"/Resource").ID, "")
			}
			if len(secrets) != 3+len(ProviderSecrets) {
				t.Errorf("%s secrets %v", role.name, keys(secrets))
			}
			if strings.Contains(js(secrets), "MasterSecret") {
				t.Errorf("%s can read the master credentials", role.name)
			}

			// The image is this release's tag in the platform's repository.
			img := get(c, "Image", "Fn::Join", 1).([]any)
			if img[len(img)-1] != ":"+testImageTag {
				t.Errorf("%s image tag %s, want %s", role.name, js(img[len(img)-1]), testImageTag)
			}
			if _, repo := f.exportTarget(t, img[len(img)-2]); platform.one(t, "AWS::ECR::Repository").ID != repo {
				t.Errorf("%s image does not come from the ECR repository", role.name)
			}
			if _, lg := f.exportTarget(t, get(c, "LogConfiguration", "Options", "awslogs-group")); !strings.HasSuffix(platform.pathOf(lg), "/"+title(role.name)+"Logs/Resource") {
				t.Errorf("%s logs to %s", role.name, platform.pathOf(lg))
			}
		}
	})
}

func TestTaskRolesTouchOnlyTheRecordingsPrefix(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerServices)
		data := f.template(t, cfg, LayerData)
		bucket := data.byPath(t, "/Recordings/Resource").ID
		for _, name := range []string{"Api", "Worker"} {
			td := tp.byPath(t, "/"+name+"TaskDefinition/Resource")
			roleID := refTarget(t, td.Properties["TaskRoleArn"])
			var statements []any
			for _, p := range tp.resources("AWS::IAM::Policy") {
				for _, r := range p.Properties["Roles"].([]any) {
					if refTarget(t, r) == roleID {
						statements = append(statements, get(p.Properties, "PolicyDocument", "Statement").([]any)...)
					}
				}
			}
			var objects, list, kms bool
			for _, st := range statements {
				actions := js(get(st, "Action"))
				resources := js(get(st, "Resource"))
				switch get(st, "Sid") {
				case "RecordingsObjects":
					objects = actions == `["s3:DeleteObject","s3:GetObject","s3:PutObject"]` &&
						strings.HasSuffix(resources, `"/recordings/*"]]}`) && strings.Contains(resources, "ExportsOutputFnGetAttRecordings")
				case "RecordingsList":
					list = actions == `"s3:ListBucket"` && js(get(st, "Condition")) == `{"StringLike":{"s3:prefix":["recordings/*"]}}`
				case "RecordingsKey":
					kms = strings.Contains(js(get(st, "Condition")), `"kms:ViaService":"s3.`+cfg.Region+`.amazonaws.com"`)
				default:
					if strings.Contains(actions, "s3:") || strings.Contains(actions, `"*"`) {
						t.Errorf("%s task role has extra S3 or wildcard access: %s", name, js(st))
					}
				}
				if strings.Contains(actions, "s3:*") || strings.Contains(resources, bucket+`.Arn"]},"/*"`) {
					t.Errorf("%s task role reaches beyond recordings/: %s", name, js(st))
				}
			}
			if !objects || !list || !kms {
				t.Errorf("%s task role: objects=%v list=%v kms=%v in %s", name, objects, list, kms, js(statements))
			}
		}
	})
}

func TestServices(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerServices)
		platform := f.template(t, cfg, LayerPlatform)
		for _, svc := range []struct {
			name            string
			desired, lo, hi int
			sg              string
		}{
			{"Api", cfg.APIDesiredCount, cfg.APIMinTasks, cfg.APIMaxTasks, "/ApiTasks/Resource"},
			{"Worker", cfg.WorkerDesiredCount, cfg.WorkerMinTasks, cfg.WorkerMaxTasks, "/WorkerTasks/Resource"},
		} {
			s := tp.byPath(t, "/"+svc.name+"/Service")
			p := s.Properties
			if js(p["DeploymentConfiguration"]) != `{"DeploymentCircuitBreaker":{"Enable":true,"Rollback":true},"MaximumPercent":200,"MinimumHealthyPercent":100,"Strategy":"ROLLING"}` {
				t.Errorf("%s deployment %s, want rolling with circuit breaker and rollback", svc.name, js(p["DeploymentConfiguration"]))
			}
			if p["LaunchType"] != "FARGATE" || p["DesiredCount"] != float64(svc.desired) || get(p, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp") != "DISABLED" {
				t.Errorf("%s launch=%v desired=%v network=%s", svc.name, p["LaunchType"], p["DesiredCount"], js(p["NetworkConfiguration"]))
			}
			if _, sg := f.exportTarget(t, get(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups", 0)); !strings.HasSuffix(platform.pathOf(sg), svc.sg) {
				t.Errorf("%s runs in %s, want …%s", svc.name, platform.pathOf(sg), svc.sg)
			}
			for _, sub := range get(p, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets").([]any) {
				if _, id := f.exportTarget(t, sub); !strings.Contains(id, "private") {
					t.Errorf("%s runs in subnet %s, want the private subnets", svc.name, id)
				}
			}

			var target resource
			for _, st := range tp.resources("AWS::ApplicationAutoScaling::ScalableTarget") {
				if strings.Contains(js(st.Properties["ResourceId"]), s.ID) {
					target = st
				}
			}
			if target.Properties["MinCapacity"] != float64(svc.lo) || target.Properties["MaxCapacity"] != float64(svc.hi) {
				t.Errorf("%s scaling %v..%v, want %d..%d", svc.name, target.Properties["MinCapacity"], target.Properties["MaxCapacity"], svc.lo, svc.hi)
			}
			policies := map[string]float64{}
			for _, sp := range tp.resources("AWS::ApplicationAutoScaling::ScalingPolicy") {
				if refTarget(t, sp.Properties["ScalingTargetId"]) == target.ID {
					c := get(sp.Properties, "TargetTrackingScalingPolicyConfiguration")
					policies[get(c, "PredefinedMetricSpecification", "PredefinedMetricType").(string)] = get(c, "TargetValue").(float64)
				}
			}
			want := map[string]float64{"ECSServiceAverageCPUUtilization": WorkerCPUTargetPercent}
			if svc.name == "Api" {
				want = map[string]float64{"ECSServiceAverageCPUUtilization": APICPUTargetPercent, "ALBRequestCountPerTarget": float64(cfg.APIRequestsPerTask)}
			}
			if js(policies) != js(want) {
				t.Errorf("%s scaling policies %v, want %v", svc.name, policies, want)
			}
		}

		api := tp.byPath(t, "/Api/Service")
		lbs := api.Properties["LoadBalancers"].([]any)
		if len(lbs) != 1 || get(lbs[0], "ContainerName") != "api" || get(lbs[0], "ContainerPort") != float64(AppPort) {
			t.Fatalf("api load balancers %s", js(lbs))
		}
		if _, tg := f.exportTarget(t, get(lbs[0], "TargetGroupArn")); tg != platform.one(t, "AWS::ElasticLoadBalancingV2::TargetGroup").ID {
			t.Errorf("api registers with %s, not the ALB target group", tg)
		}
		if api.Properties["HealthCheckGracePeriodSeconds"] != 60.0 {
			t.Errorf("grace period %v", api.Properties["HealthCheckGracePeriodSeconds"])
		}
		if lbs := js(tp.byPath(t, "/Worker/Service").Properties["LoadBalancers"]); lbs != "[]" && lbs != "null" {
			t.Errorf("worker is behind a load balancer: %s", lbs)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
