package infra

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestDatabase(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerData)
		db := tp.one(t, "AWS::RDS::DBInstance")
		p := db.Properties
		key := tp.one(t, "AWS::KMS::Key")

		want := map[string]any{
			"Engine":                "postgres",
			"DBInstanceClass":       "db." + cfg.DBInstanceType,
			"DBName":                DatabaseName,
			"MasterUsername":        MasterUsername,
			"StorageEncrypted":      true,
			"PubliclyAccessible":    false,
			"MultiAZ":               cfg.DBMultiAZ,
			"DeletionProtection":    cfg.DBDeletionProtection,
			"BackupRetentionPeriod": float64(cfg.DBBackupRetentionDays),
			"StorageType":           "gp3",
			"Port":                  "5432",
		}
		for k, v := range want {
			if p[k] != v {
				t.Errorf("DBInstance.%s = %v, want %v", k, p[k], v)
			}
		}
		if bp, _ := p["BackupRetentionPeriod"].(float64); bp <= 0 {
			t.Errorf("backups disabled (retention %v): no point-in-time recovery", p["BackupRetentionPeriod"])
		}
		if v, _ := p["EngineVersion"].(string); !strings.HasPrefix(v, "16.") || p["AutoMinorVersionUpgrade"] != true || p["AllowMajorVersionUpgrade"] != false {
			t.Errorf("engine version %v (auto minor %v, major %v), want major 16 with automatic minor upgrades only",
				v, p["AutoMinorVersionUpgrade"], p["AllowMajorVersionUpgrade"])
		}
		if refTarget(t, p["KmsKeyId"]) != key.ID {
			t.Errorf("storage encrypted with %s, want the data key %s", js(p["KmsKeyId"]), key.ID)
		}
		if get(key.Properties, "EnableKeyRotation") != true {
			t.Error("data key rotation is off")
		}
		if js(p["EnableCloudwatchLogsExports"]) != `["postgresql","upgrade"]` {
			t.Errorf("log exports %s", js(p["EnableCloudwatchLogsExports"]))
		}
		if p["EnablePerformanceInsights"] != cfg.DBPerformanceInsights {
			t.Errorf("performance insights %v, want %v", p["EnablePerformanceInsights"], cfg.DBPerformanceInsights)
		}
		if db.Raw["DeletionPolicy"] != "Snapshot" {
			t.Errorf("deletion policy %v, want Snapshot", db.Raw["DeletionPolicy"])
		}

		// The database lives in the isolated subnets only.
		sng := tp.one(t, "AWS::RDS::DBSubnetGroup")
		ids := get(sng.Properties, "SubnetIds").([]any)
		if len(ids) != 2 {
			t.Fatalf("subnet group has %d subnets", len(ids))
		}
		for _, id := range ids {
			_, logical := f.exportTarget(t, id)
			if !strings.Contains(logical, "isolated") {
				t.Errorf("database subnet %s is not an isolated subnet", logical)
			}
		}

		pg := tp.one(t, "AWS::RDS::DBParameterGroup")
		for k, v := range map[string]string{"rds.force_ssl": "1", "log_min_duration_statement": "500", "log_connections": "1", "log_disconnections": "1"} {
			if got := get(pg.Properties, "Parameters", k); got != v {
				t.Errorf("parameter %s = %v, want %s", k, got, v)
			}
		}
		if refTarget(t, p["DBParameterGroupName"]) != pg.ID {
			t.Error("instance does not use the parameter group")
		}

		// RDS log export groups exist up front with the retention policy.
		for _, export := range []string{"postgresql", "upgrade"} {
			name := "/aws/rds/instance/autopulse-" + cfg.Name + "/" + export
			found := false
			for _, lg := range tp.resources("AWS::Logs::LogGroup") {
				if lg.Properties["LogGroupName"] == name {
					found = true
					if lg.Properties["RetentionInDays"] != retention(t, cfg) {
						t.Errorf("%s retention %v", name, lg.Properties["RetentionInDays"])
					}
				}
			}
			if !found {
				t.Errorf("log group %s missing", name)
			}
		}
	})
}

func TestDatabaseSecurityGroupAdmitsOnlyKnownGroups(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		data := f.template(t, cfg, LayerData)
		platform := f.template(t, cfg, LayerPlatform)
		dbSG := data.byPath(t, "/DatabaseSecurityGroup/Resource")
		if ingress := dbSG.Properties["SecurityGroupIngress"]; ingress != nil {
			t.Errorf("database group has inline ingress %s", js(ingress))
		}
		if strings.Contains(js(dbSG.Properties["SecurityGroupEgress"]), `"0.0.0.0/0"`) {
			t.Errorf("database group egress %s, want none", js(dbSG.Properties["SecurityGroupEgress"]))
		}

		sources := map[string]bool{}
		// Rules in the data stack (the rotation Lambda) reference the group directly.
		for _, r := range data.resources("AWS::EC2::SecurityGroupIngress") {
			if refTarget(t, r.Properties["GroupId"]) != dbSG.ID {
				continue
			}
			if _, ok := r.Properties["CidrIp"]; ok {
				t.Errorf("CIDR ingress on the database: %s", js(r.Properties))
			}
			sources[data.pathOf(refTarget(t, r.Properties["SourceSecurityGroupId"]))] = true
		}
		// Rules in the platform stack import it.
		for _, r := range platform.resources("AWS::EC2::SecurityGroupIngress") {
			if _, ok := get(r.Properties, "GroupId", "Fn::ImportValue").(string); !ok {
				continue
			}
			stack, target := f.exportTarget(t, r.Properties["GroupId"])
			if stack != cfg.StackName(LayerData) || target != dbSG.ID {
				continue
			}
			if r.Properties["CidrIp"] != nil || r.Properties["CidrIpv6"] != nil || r.Properties["SourcePrefixListId"] != nil {
				t.Errorf("non-group ingress on the database: %s", js(r.Properties))
			}
			if r.Properties["FromPort"] != float64(DatabasePort) || r.Properties["ToPort"] != float64(DatabasePort) {
				t.Errorf("database rule ports %v-%v, want 5432", r.Properties["FromPort"], r.Properties["ToPort"])
			}
			sources[platform.pathOf(refTarget(t, r.Properties["SourceSecurityGroupId"]))] = true
		}
		for _, want := range []string{"/ApiTasks/Resource", "/WorkerTasks/Resource", "/MigrateTasks/Resource", "/Rotation/SecurityGroup/Resource"} {
			found := false
			for s := range sources {
				if strings.HasSuffix(s, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("database does not admit %s (admits %v)", want, sources)
			}
		}
		if len(sources) != 4 {
			t.Errorf("database admits %d groups %v, want exactly api, worker, migrate and rotation", len(sources), sources)
		}
	})
}

func TestSecrets(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerData)
		byName := map[string]resource{}
		for _, s := range tp.resources("AWS::SecretsManager::Secret") {
			if n, ok := s.Properties["Name"].(string); ok {
				byName[n] = s
			}
		}
		names := []string{"db-master", "db-app", "jwt-secret"}
		for _, p := range ProviderSecrets {
			names = append(names, p.Name)
		}
		for _, n := range names {
			s, ok := byName[cfg.SecretName(n)]
			if !ok {
				t.Errorf("secret %s missing", cfg.SecretName(n))
				continue
			}
			if s.Properties["GenerateSecretString"] == nil {
				t.Errorf("secret %s is not generated", n)
			}
			if cfg.RetainData && s.Raw["DeletionPolicy"] != "Retain" {
				t.Errorf("secret %s deletion policy %v, want Retain", n, s.Raw["DeletionPolicy"])
			}
		}
		app := byName[cfg.SecretName("db-app")]
		if get(app.Properties, "GenerateSecretString", "SecretStringTemplate") != `{"username":"autopulse_app"}` ||
			get(app.Properties, "GenerateSecretString", "GenerateStringKey") != "password" {
			t.Errorf("app secret generator %s", js(app.Properties["GenerateSecretString"]))
		}

		rot := tp.one(t, "AWS::SecretsManager::RotationSchedule")
		if get(rot.Properties, "HostedRotationLambda", "RotationType") != "PostgreSQLSingleUser" ||
			get(rot.Properties, "RotationRules", "ScheduleExpression") != "rate(30 days)" {
			t.Errorf("master rotation %s", js(rot.Properties))
		}
		att := tp.one(t, "AWS::SecretsManager::SecretTargetAttachment")
		if refTarget(t, rot.Properties["SecretId"]) != att.ID || refTarget(t, att.Properties["SecretId"]) != byName[cfg.SecretName("db-master")].ID {
			t.Error("rotation is not attached to the master secret")
		}
		if !strings.Contains(js(tp["Transform"]), "AWS::SecretsManager-") {
			t.Errorf("hosted rotation needs the Secrets Manager transform, got %s", js(tp["Transform"]))
		}
	})
}

func TestRecordingsBucket(t *testing.T) {
	forEachEnv(t, func(t *testing.T, f *fixture, cfg EnvConfig) {
		tp := f.template(t, cfg, LayerData)
		b := tp.byPath(t, "/Recordings/Resource")
		logs := tp.byPath(t, "/AccessLogs/Resource")
		key := tp.one(t, "AWS::KMS::Key")

		enc := get(b.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault")
		if get(enc, "SSEAlgorithm") != "aws:kms" || refTarget(t, get(enc, "KMSMasterKeyID")) != key.ID {
			t.Errorf("recordings encryption %s, want SSE-KMS with the data key", js(enc))
		}
		if get(b.Properties, "VersioningConfiguration", "Status") != "Enabled" {
			t.Error("recordings bucket is not versioned")
		}
		if refTarget(t, get(b.Properties, "LoggingConfiguration", "DestinationBucketName")) != logs.ID {
			t.Errorf("server access logs go to %s, want the access-log bucket", js(b.Properties["LoggingConfiguration"]))
		}
		rule := get(b.Properties, "LifecycleConfiguration", "Rules", 0)
		if get(rule, "Transitions", 0, "StorageClass") != "STANDARD_IA" || get(rule, "Transitions", 0, "TransitionInDays") != 30.0 {
			t.Errorf("lifecycle transition %s, want STANDARD_IA after 30 days", js(get(rule, "Transitions")))
		}
		if get(rule, "ExpirationInDays") != float64(cfg.RecordingsRetentionDays) {
			t.Errorf("recordings expire after %v days, want %d", get(rule, "ExpirationInDays"), cfg.RecordingsRetentionDays)
		}
		if get(rule, "NoncurrentVersionExpiration", "NoncurrentDays") != 30.0 {
			t.Errorf("noncurrent versions %s, want kept 30 days", js(get(rule, "NoncurrentVersionExpiration")))
		}
	})
}

// TestBucketsLockedDown holds for every bucket of every stack: public access
// blocked, encrypted at rest, TLS required by the bucket policy.
func TestBucketsLockedDown(t *testing.T) {
	f := setup(t)
	for name, tp := range f.templates {
		policies := map[string]string{}
		for _, p := range tp.resources("AWS::S3::BucketPolicy") {
			policies[refTarget(t, p.Properties["Bucket"])] = js(p.Properties["PolicyDocument"])
		}
		for _, b := range tp.resources("AWS::S3::Bucket") {
			pab := js(b.Properties["PublicAccessBlockConfiguration"])
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if !strings.Contains(pab, `"`+k+`":true`) {
					t.Errorf("%s/%s: %s not set (%s)", name, b.ID, k, pab)
				}
			}
			if get(b.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
				t.Errorf("%s/%s: no default encryption", name, b.ID)
			}
			pol := policies[b.ID]
			if !strings.Contains(pol, `"aws:SecureTransport":"false"`) || !strings.Contains(pol, `"Effect":"Deny"`) {
				t.Errorf("%s/%s: bucket policy does not deny plain HTTP: %s", name, b.ID, pol)
			}
		}
	}
}

// TestDataStackHasNoPublicDatabase uses the assertions library's matchers
// directly on the prod stack, as a second, independent check.
func TestDataStackHasNoPublicDatabase(t *testing.T) {
	f := setup(t)
	tpl := assertions.Template_FromStack(f.stackOf(t, Prod(), LayerData), nil)
	has(t, "prod database is private, encrypted, Multi-AZ and protected", func() {
		tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), &map[string]any{
			"PubliclyAccessible": false,
			"StorageEncrypted":   true,
			"MultiAZ":            true,
			"DeletionProtection": true,
		})
	})
	has(t, "exactly one database", func() {
		tpl.ResourceCountIs(jsii.String("AWS::RDS::DBInstance"), jsii.Number(1))
	})
}
