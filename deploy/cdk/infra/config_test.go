package infra

import (
	"strings"
	"testing"
)

func TestEnvironmentsAreValid(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	cidrs := map[string]bool{}
	for _, cfg := range Environments() {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", cfg.Name, err)
		}
		if names[cfg.Name] || cidrs[cfg.VpcCidr] {
			t.Errorf("%s: duplicate name or VPC CIDR %s", cfg.Name, cfg.VpcCidr)
		}
		names[cfg.Name], cidrs[cfg.VpcCidr] = true, true
	}
	for _, want := range []string{"dev", "staging", "prod"} {
		if !names[want] {
			t.Errorf("environment %s missing", want)
		}
	}
}

// TestEnvironmentDifferences pins the decisions that tell the three
// environments apart; the template tests check they reach CloudFormation.
func TestEnvironmentDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg                EnvConfig
		multiAZ, protected bool
		nats               int
		minBackupDays      int
		retain             bool
	}{
		{Dev(), false, false, 1, 1, false},
		{Staging(), false, true, 2, 7, true},
		{Prod(), true, true, 2, 14, true},
	}
	for _, tt := range tests {
		c := tt.cfg
		if c.DBMultiAZ != tt.multiAZ || c.DBDeletionProtection != tt.protected || c.NatGateways != tt.nats || c.RetainData != tt.retain {
			t.Errorf("%s: multiAZ=%v protected=%v nats=%d retain=%v, want %v %v %d %v",
				c.Name, c.DBMultiAZ, c.DBDeletionProtection, c.NatGateways, c.RetainData, tt.multiAZ, tt.protected, tt.nats, tt.retain)
		}
		if c.DBBackupRetentionDays < tt.minBackupDays {
			t.Errorf("%s: backup retention %d < %d", c.Name, c.DBBackupRetentionDays, tt.minBackupDays)
		}
	}
	if Dev().APIMaxTasks > Staging().APIMaxTasks || Staging().APIMaxTasks > Prod().APIMaxTasks {
		t.Error("API capacity must not shrink from dev to staging to prod")
	}
	if Prod().Alarms.API5xxRatePercent >= Dev().Alarms.API5xxRatePercent {
		t.Error("prod must alarm on a lower 5xx rate than dev")
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*EnvConfig)
		base   func() EnvConfig
		want   string
	}{
		{"prod single-AZ", func(c *EnvConfig) { c.DBMultiAZ = false }, Prod, "Multi-AZ"},
		{"dev Multi-AZ", func(c *EnvConfig) { c.DBMultiAZ = true }, Dev, "only prod runs a Multi-AZ"},
		{"staging unprotected", func(c *EnvConfig) { c.DBDeletionProtection = false }, Staging, "deletion protection"},
		{"no backups", func(c *EnvConfig) { c.DBBackupRetentionDays = 0 }, Dev, "point-in-time"},
		{"prod short backups", func(c *EnvConfig) { c.DBBackupRetentionDays = 3 }, Prod, "at least 7 days"},
		{"one NAT in prod", func(c *EnvConfig) { c.NatGateways = 1 }, Prod, "only dev may share"},
		{"three NATs", func(c *EnvConfig) { c.NatGateways = 3 }, Dev, "nat gateways"},
		{"min above desired", func(c *EnvConfig) { c.APIMinTasks = 3 }, Staging, "api tasks"},
		{"desired above max", func(c *EnvConfig) { c.WorkerDesiredCount = 9 }, Prod, "worker tasks"},
		{"odd fargate size", func(c *EnvConfig) { c.APIMemoryMiB = 700 }, Dev, "not a Fargate size"},
		{"recordings expire before IA", func(c *EnvConfig) { c.RecordingsRetentionDays = 30 }, Dev, "STANDARD_IA"},
		{"domain outside zone", func(c *EnvConfig) { c.APIDomain = "api.example.org" }, Dev, "not inside hosted zone"},
		{"origin equals api", func(c *EnvConfig) { c.OriginDomain = c.APIDomain }, Dev, "must differ"},
		{"bad account", func(c *EnvConfig) { c.Account = "1234" }, Dev, "12-digit"},
		{"zone outside region", func(c *EnvConfig) { c.AvailabilityZones = []string{"us-east-1a", "us-west-2a"} }, Dev, "not in region"},
		{"db. prefix", func(c *EnvConfig) { c.DBInstanceType = "db.t4g.micro" }, Dev, "db. prefix"},
		{"prefix list", func(c *EnvConfig) { c.CloudFrontPrefixListID = "0.0.0.0/0" }, Dev, "prefix list"},
		{"free-storage alarm above disk", func(c *EnvConfig) { c.Alarms.RDSFreeStorageGiB = 500 }, Dev, "alarm thresholds"},
		{"odd monitoring interval", func(c *EnvConfig) { c.DBMonitoringIntervalSeconds = 7 }, Prod, "monitoring interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.base()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestFargateSizes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cpu, mem int
		ok       bool
	}{
		{256, 512, true}, {256, 4096, false}, {512, 1024, true}, {512, 1536, false},
		{1024, 2048, true}, {1024, 1024, false}, {4096, 30720, true}, {3000, 8192, false},
	} {
		if got := fargateSizeOK(tt.cpu, tt.mem); got != tt.ok {
			t.Errorf("fargateSizeOK(%d, %d) = %v, want %v", tt.cpu, tt.mem, got, tt.ok)
		}
	}
}

func TestEnvironmentByName(t *testing.T) {
	t.Parallel()
	if c, err := EnvironmentByName("staging"); err != nil || c.Name != "staging" {
		t.Fatalf("EnvironmentByName(staging) = %v, %v", c.Name, err)
	}
	if _, err := EnvironmentByName("qa"); err == nil {
		t.Fatal("EnvironmentByName(qa) succeeded")
	}
}
