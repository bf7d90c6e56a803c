package infra

import (
	"strings"
	"testing"
)

func TestAlarms(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerObservability)
		topic := tp.one(t, "AWS::SNS::Topic")
		key := tp.one(t, "AWS::KMS::Key")
		if refTarget(t, topic.Properties["KmsMasterKeyId"]) != key.ID {
			t.Errorf("alarm topic is not encrypted with its key: %s", js(topic.Properties))
		}
		if !strings.Contains(js(key.Properties["KeyPolicy"]), `"Service":"cloudwatch.amazonaws.com"`) {
			t.Error("CloudWatch cannot use the topic key")
		}
		pol := js(tp.one(t, "AWS::SNS::TopicPolicy").Properties["PolicyDocument"])
		if !strings.Contains(pol, `"aws:SecureTransport":"false"`) || !strings.Contains(pol, `"Effect":"Deny"`) {
			t.Errorf("topic accepts plain HTTP publishers: %s", pol)
		}
		subs := tp.resources("AWS::SNS::Subscription")
		if (cfg.AlarmEmail != "") != (len(subs) == 1) || (len(subs) == 1 && subs[0].Properties["Endpoint"] != cfg.AlarmEmail) {
			t.Errorf("subscriptions %s for alarm email %q", js(subs), cfg.AlarmEmail)
		}

		a := cfg.Alarms
		want := map[string]struct {
			threshold float64
			metric    string
		}{
			"Api5xxRate":        {a.API5xxRatePercent, "HTTPCode_Target_5XX_Count"},
			"ApiP99Latency":     {a.APIP99LatencySeconds, "TargetResponseTime"},
			"ApiUnhealthyHosts": {a.UnhealthyHosts, "UnHealthyHostCount"},
			"DbCpu":             {a.RDSCPUPercent, "CPUUtilization"},
			"DbFreeStorage":     {a.RDSFreeStorageGiB * 1024 * 1024 * 1024, "FreeStorageSpace"},
			"QueueBacklog":      {a.QueueBacklog, QueueDepthMetric},
		}
		alarms := tp.resources("AWS::CloudWatch::Alarm")
		if len(alarms) != len(want) {
			t.Errorf("%d alarms, want %d", len(alarms), len(want))
		}
		for _, al := range alarms {
			name := strings.TrimPrefix(al.Properties["AlarmName"].(string), "autopulse-"+cfg.Name+"-")
			w, ok := want[name]
			if !ok {
				t.Errorf("unexpected alarm %s", name)
				continue
			}
			if name == "QueueBacklog" && al.Properties["TreatMissingData"] != "breaching" {
				t.Errorf("QueueBacklog treats missing data as %v: a silent worker must alarm", al.Properties["TreatMissingData"])
			}
			if al.Properties["Threshold"] != w.threshold {
				t.Errorf("%s threshold %v, want %v", name, al.Properties["Threshold"], w.threshold)
			}
			if !strings.Contains(js(al.Properties), `"MetricName":"`+w.metric+`"`) {
				t.Errorf("%s does not watch %s", name, w.metric)
			}
			for _, k := range []string{"AlarmActions", "OKActions"} {
				if acts := al.Properties[k].([]any); len(acts) != 1 || refTarget(t, acts[0]) != topic.ID {
					t.Errorf("%s %s = %s, want the alarm topic", name, k, js(acts))
				}
			}
		}

		mf := tp.one(t, "AWS::Logs::MetricFilter")
		if mf.Properties["FilterPattern"] != "{ $.river_queue_depth >= 0 }" ||
			js(mf.Properties["MetricTransformations"]) != `[{"MetricName":"river_queue_depth","MetricNamespace":"AutoPulse","MetricValue":"$.river_queue_depth","Unit":"Count"}]` {
			t.Errorf("queue depth filter %s", js(mf.Properties))
		}
		if _, lg := f.exportTarget(t, mf.Properties["LogGroupName"]); !strings.HasSuffix(f.template(t, cfg, LayerPlatform).pathOf(lg), "/WorkerLogs/Resource") {
			t.Errorf("queue depth filter reads %s, want the worker log group", lg)
		}
	})
}

func TestDashboard(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerObservability)
		d := tp.one(t, "AWS::CloudWatch::Dashboard")
		if d.Properties["DashboardName"] != "autopulse-"+cfg.Name {
			t.Errorf("dashboard name %v", d.Properties["DashboardName"])
		}
		body := js(d.Properties["DashboardBody"])
		for _, want := range []string{
			`\"TargetResponseTime\"`, `\"stat\":\"p50\"`, `\"stat\":\"p99\"`,
			`\"HTTPCode_Target_5XX_Count\"`, `\"HTTPCode_ELB_5XX_Count\"`, `\"RequestCount\"`,
			`[\"AWS/ECS\",\"CPUUtilization\"`, `[\"AWS/ECS\",\"MemoryUtilization\"`,
			`[\"AWS/RDS\",\"CPUUtilization\"`, `\"DatabaseConnections\"`, `\"FreeStorageSpace\"`,
			`[\"AutoPulse\",\"river_queue_depth\"`, `\"UnHealthyHostCount\"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
		// Both services appear on the ECS graphs.
		if n := strings.Count(body, "ExportsOutputFnGetAttApiService") + strings.Count(body, "ExportsOutputFnGetAttWorkerService"); n < 4 {
			t.Errorf("ECS graphs reference the services %d times, want CPU and memory for both", n)
		}
	})
}

// TestNoElastiCache: the app keeps sessions, throttling, idempotency keys and
// its job queue in PostgreSQL; a cache cluster would be unused cost.
func TestNoElastiCache(t *testing.T) {
	f := setup(t)
	if len(f.templates) != 18 {
		t.Fatalf("%d stacks, want 18", len(f.templates))
	}
	for name, tp := range f.templates {
		for _, r := range tp.resources("") {
			if strings.HasPrefix(r.Type, "AWS::ElastiCache::") || strings.HasPrefix(r.Type, "AWS::MemoryDB::") {
				t.Errorf("%s has %s %s", name, r.Type, r.ID)
			}
		}
	}
}

// TestNoOpenIngress: nothing anywhere accepts traffic from the whole
// internet; the ALB takes CloudFront's prefix list, everything else groups.
func TestNoOpenIngress(t *testing.T) {
	f := setup(t)
	for name, tp := range f.templates {
		for _, r := range append(tp.resources("AWS::EC2::SecurityGroup"), tp.resources("AWS::EC2::SecurityGroupIngress")...) {
			s := js(r.Properties["SecurityGroupIngress"]) + js(r.Properties["CidrIp"]) + js(r.Properties["CidrIpv6"])
			if r.Type == "AWS::EC2::SecurityGroupIngress" {
				s = js(r.Properties)
			}
			if strings.Contains(s, "0.0.0.0/0") || strings.Contains(s, "::/0") {
				t.Errorf("%s/%s is open to the internet: %s", name, r.ID, s)
			}
		}
	}
}
