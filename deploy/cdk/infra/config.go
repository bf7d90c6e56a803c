// Package infra defines AutoPulse's AWS infrastructure as CDK stacks.
//
// Every environment (dev, staging, prod) is described by one typed EnvConfig;
// the stack constructors read nothing else, so a test can build any
// environment offline and assert on the synthesized templates.
package infra

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Application contract: values every container of the image relies on.
const (
	// AppPort is the HTTP port the API listens on (AUTOPULSE_LISTEN).
	AppPort = 8080
	// MetricsPort is the Prometheus port (AUTOPULSE_METRICS_LISTEN). It is
	// never mapped or opened in a security group.
	MetricsPort = 9090
	// ShutdownTimeoutSeconds is AUTOPULSE_SHUTDOWN_TIMEOUT: how long the app
	// drains in-flight work after SIGTERM.
	ShutdownTimeoutSeconds = 25
	// StopTimeoutSeconds is the container stopTimeout: SIGKILL comes this long
	// after SIGTERM, so it must exceed ShutdownTimeoutSeconds.
	StopTimeoutSeconds = 35
	// DeregistrationDelaySeconds is how long the ALB keeps sending in-flight
	// requests to a draining target before ECS sends SIGTERM.
	DeregistrationDelaySeconds = 30
	// HealthCheckPath is the readiness endpoint the target group probes.
	HealthCheckPath = "/readyz"
	// DatabaseName is the PostgreSQL database the app uses.
	DatabaseName = "autopulse"
	// DatabasePort is the PostgreSQL port.
	DatabasePort = 5432
	// MasterUsername owns the schema and runs migrations: the RDS master
	// user, named like the owner role of the embedded cluster
	// (internal/postgres.OwnerRole), so SQL in the runbook works on both.
	MasterUsername = "autopulse"
	// AppDBUsername is the NOSUPERUSER NOBYPASSRLS role the server uses.
	AppDBUsername = "autopulse_app"
	// RecordingsPrefix is the only key prefix the tasks may touch in the
	// recordings bucket (AUTOPULSE_BLOB_S3_PREFIX).
	RecordingsPrefix = "recordings/"
	// ContainerUser is the non-root uid:gid the containers run as (the
	// distroless "nonroot" user).
	ContainerUser = "65532:65532"
	// EdgeRegion is where CloudFront certificates and WAF web ACLs must live.
	EdgeRegion = "us-east-1"
	// ImageTagContextKey is the CDK context key that selects the image tag
	// (the git SHA the pipeline pushed) for every task definition.
	ImageTagContextKey = "imageTag"
	// QueueDepthNamespace and QueueDepthMetric name the custom metric made
	// from the worker's "river queue depth" log lines.
	QueueDepthNamespace = "AutoPulse"
	QueueDepthMetric    = "river_queue_depth"
)

// AlarmThresholds are the per-environment limits behind the CloudWatch alarms.
type AlarmThresholds struct {
	// API5xxRatePercent alarms when (ELB 5xx + target 5xx) / requests exceeds it.
	API5xxRatePercent float64
	// APIP99LatencySeconds alarms when the p99 target response time exceeds it.
	APIP99LatencySeconds float64
	// UnhealthyHosts alarms when at least this many targets are unhealthy.
	UnhealthyHosts float64
	// RDSCPUPercent alarms when the database CPU stays above it.
	RDSCPUPercent float64
	// RDSFreeStorageGiB alarms when free storage drops below it.
	RDSFreeStorageGiB float64
	// QueueBacklog alarms when the River queue depth stays above it.
	QueueBacklog float64
}

// EnvConfig holds everything that differs between dev, staging and prod.
type EnvConfig struct {
	// Name is dev, staging or prod; it prefixes stack and resource names.
	Name    string
	Account string
	Region  string
	// AvailabilityZones are given explicitly so synthesis never needs an
	// AZ lookup (no credentials, deterministic templates).
	AvailabilityZones []string

	VpcCidr     string
	NatGateways int

	// HostedZoneID/HostedZoneName identify the existing public zone; it is
	// imported by attributes, never looked up.
	HostedZoneID   string
	HostedZoneName string
	// APIDomain is the public name (Route 53 alias -> CloudFront).
	APIDomain string
	// OriginDomain is the ALB's own name, used by CloudFront as its origin.
	OriginDomain string
	// CloudFrontPrefixListID is the AWS-managed prefix list
	// com.amazonaws.global.cloudfront.origin-facing in Region; the ALB accepts
	// traffic only from it.
	CloudFrontPrefixListID string

	DBInstanceType           string // without the "db." prefix, e.g. "t4g.micro"
	DBAllocatedStorageGiB    int
	DBMaxAllocatedStorageGiB int
	DBMultiAZ                bool
	DBBackupRetentionDays    int
	DBDeletionProtection     bool
	DBPerformanceInsights    bool
	// DBMonitoringIntervalSeconds enables RDS enhanced monitoring (0 = off).
	DBMonitoringIntervalSeconds int

	APICPU             int // Fargate CPU units
	APIMemoryMiB       int
	APIDesiredCount    int
	APIMinTasks        int
	APIMaxTasks        int
	APIRequestsPerTask int // ALB requests per target per minute before scaling out

	WorkerCPU          int
	WorkerMemoryMiB    int
	WorkerDesiredCount int
	WorkerMinTasks     int
	WorkerMaxTasks     int

	MigrateCPU       int
	MigrateMemoryMiB int

	// RecordingsRetentionDays is when a call recording is deleted.
	RecordingsRetentionDays int
	// AccessLogRetentionDays is when ALB, CloudFront and S3 access logs are deleted.
	AccessLogRetentionDays int
	// LogRetention applies to every CloudWatch log group.
	LogRetention awslogs.RetentionDays
	// RetainData keeps buckets, secrets, repositories and log groups when a
	// stack is deleted.
	RetainData bool

	Alarms AlarmThresholds
	// AlarmEmail, when set, is subscribed to the alarm topic.
	AlarmEmail string
}

// Environments returns the three deployment environments in promotion order.
//
// Account IDs, hosted zone IDs and domains are placeholders for the real
// ones: edit them here (and only here) before the first deploy.
func Environments() []EnvConfig {
	return []EnvConfig{Dev(), Staging(), Prod()}
}

// EnvironmentByName returns the named environment's configuration.
func EnvironmentByName(name string) (EnvConfig, error) {
	for _, e := range Environments() {
		if e.Name == name {
			return e, nil
		}
	}
	return EnvConfig{}, fmt.Errorf("unknown environment %q (want dev, staging or prod)", name)
}

// Dev is the cheapest environment that still runs the full topology.
func Dev() EnvConfig {
	return EnvConfig{
		Name:                   "dev",
		Account:                "111111111111",
		Region:                 "us-east-1",
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		VpcCidr:                "10.10.0.0/16",
		NatGateways:            1,
		HostedZoneID:           "Z0DEV00000000000000A",
		HostedZoneName:         "dev.autopulse.example.com",
		APIDomain:              "api.dev.autopulse.example.com",
		OriginDomain:           "origin.api.dev.autopulse.example.com",
		CloudFrontPrefixListID: "pl-3b927c52",

		DBInstanceType:              "t4g.micro",
		DBAllocatedStorageGiB:       20,
		DBMaxAllocatedStorageGiB:    50,
		DBMultiAZ:                   false,
		DBBackupRetentionDays:       3,
		DBDeletionProtection:        false,
		DBPerformanceInsights:       false,
		DBMonitoringIntervalSeconds: 0,

		APICPU: 256, APIMemoryMiB: 512,
		APIDesiredCount: 1, APIMinTasks: 1, APIMaxTasks: 2,
		APIRequestsPerTask: 1000,

		WorkerCPU: 256, WorkerMemoryMiB: 512,
		WorkerDesiredCount: 1, WorkerMinTasks: 1, WorkerMaxTasks: 2,

		MigrateCPU: 256, MigrateMemoryMiB: 512,

		RecordingsRetentionDays: 60,
		AccessLogRetentionDays:  30,
		LogRetention:            awslogs.RetentionDays_ONE_WEEK,
		RetainData:              false,

		Alarms: AlarmThresholds{
			API5xxRatePercent:    10,
			APIP99LatencySeconds: 5,
			UnhealthyHosts:       1,
			RDSCPUPercent:        90,
			RDSFreeStorageGiB:    2,
			QueueBacklog:         1000,
		},
		AlarmEmail: "",
	}
}

// Staging mirrors prod's shape (two NATs, protected database) at a smaller size.
func Staging() EnvConfig {
	return EnvConfig{
		Name:                   "staging",
		Account:                "222222222222",
		Region:                 "us-east-1",
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		VpcCidr:                "10.20.0.0/16",
		NatGateways:            2,
		HostedZoneID:           "Z0STAGING00000000000",
		HostedZoneName:         "staging.autopulse.example.com",
		APIDomain:              "api.staging.autopulse.example.com",
		OriginDomain:           "origin.api.staging.autopulse.example.com",
		CloudFrontPrefixListID: "pl-3b927c52",

		DBInstanceType:              "t4g.medium",
		DBAllocatedStorageGiB:       50,
		DBMaxAllocatedStorageGiB:    200,
		DBMultiAZ:                   false,
		DBBackupRetentionDays:       7,
		DBDeletionProtection:        true,
		DBPerformanceInsights:       true,
		DBMonitoringIntervalSeconds: 60,

		APICPU: 512, APIMemoryMiB: 1024,
		APIDesiredCount: 2, APIMinTasks: 2, APIMaxTasks: 4,
		APIRequestsPerTask: 1000,

		WorkerCPU: 512, WorkerMemoryMiB: 1024,
		WorkerDesiredCount: 1, WorkerMinTasks: 1, WorkerMaxTasks: 3,

		MigrateCPU: 256, MigrateMemoryMiB: 512,

		RecordingsRetentionDays: 90,
		AccessLogRetentionDays:  90,
		LogRetention:            awslogs.RetentionDays_ONE_MONTH,
		RetainData:              true,

		Alarms: AlarmThresholds{
			API5xxRatePercent:    5,
			APIP99LatencySeconds: 3,
			UnhealthyHosts:       1,
			RDSCPUPercent:        85,
			RDSFreeStorageGiB:    5,
			QueueBacklog:         1000,
		},
		AlarmEmail: "oncall+staging@autopulse.example.com",
	}
}

// Prod is Multi-AZ, deletion-protected and keeps backups for two weeks.
func Prod() EnvConfig {
	return EnvConfig{
		Name:                   "prod",
		Account:                "333333333333",
		Region:                 "us-east-1",
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		VpcCidr:                "10.30.0.0/16",
		NatGateways:            2,
		HostedZoneID:           "Z0PROD0000000000000A",
		HostedZoneName:         "autopulse.example.com",
		APIDomain:              "api.autopulse.example.com",
		OriginDomain:           "origin.api.autopulse.example.com",
		CloudFrontPrefixListID: "pl-3b927c52",

		DBInstanceType:              "m7g.large",
		DBAllocatedStorageGiB:       100,
		DBMaxAllocatedStorageGiB:    1000,
		DBMultiAZ:                   true,
		DBBackupRetentionDays:       14,
		DBDeletionProtection:        true,
		DBPerformanceInsights:       true,
		DBMonitoringIntervalSeconds: 60,

		APICPU: 1024, APIMemoryMiB: 2048,
		APIDesiredCount: 2, APIMinTasks: 2, APIMaxTasks: 10,
		APIRequestsPerTask: 1000,

		WorkerCPU: 512, WorkerMemoryMiB: 1024,
		WorkerDesiredCount: 2, WorkerMinTasks: 2, WorkerMaxTasks: 6,

		MigrateCPU: 512, MigrateMemoryMiB: 1024,

		RecordingsRetentionDays: 730,
		AccessLogRetentionDays:  365,
		LogRetention:            awslogs.RetentionDays_THREE_MONTHS,
		RetainData:              true,

		Alarms: AlarmThresholds{
			API5xxRatePercent:    1,
			APIP99LatencySeconds: 2,
			UnhealthyHosts:       1,
			RDSCPUPercent:        80,
			RDSFreeStorageGiB:    10,
			QueueBacklog:         500,
		},
		AlarmEmail: "oncall@autopulse.example.com",
	}
}

var (
	accountPattern    = regexp.MustCompile(`^[0-9]{12}$`)
	hostedZonePattern = regexp.MustCompile(`^Z[0-9A-Z]{1,31}$`)
	prefixListPattern = regexp.MustCompile(`^pl-[0-9a-f]{8,17}$`)
)

// Validate reports every inconsistency in the configuration at once.
func (c EnvConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(c.Name+": "+format, args...)) }

	switch c.Name {
	case "dev", "staging", "prod":
	default:
		add("name %q is not dev, staging or prod", c.Name)
	}
	if !accountPattern.MatchString(c.Account) {
		add("account %q is not a 12-digit AWS account id", c.Account)
	}
	if c.Region == "" {
		add("region is empty")
	}
	if len(c.AvailabilityZones) != 2 {
		add("want exactly 2 availability zones, got %d", len(c.AvailabilityZones))
	}
	for _, az := range c.AvailabilityZones {
		if !strings.HasPrefix(az, c.Region) {
			add("availability zone %q is not in region %s", az, c.Region)
		}
	}
	if c.NatGateways < 1 || c.NatGateways > len(c.AvailabilityZones) {
		add("nat gateways = %d, want 1..%d", c.NatGateways, len(c.AvailabilityZones))
	}
	if c.Name != "dev" && c.NatGateways != len(c.AvailabilityZones) {
		add("only dev may share one NAT gateway between zones")
	}
	if !hostedZonePattern.MatchString(c.HostedZoneID) {
		add("hosted zone id %q is malformed", c.HostedZoneID)
	}
	for _, d := range []string{c.APIDomain, c.OriginDomain} {
		if !strings.HasSuffix(d, "."+c.HostedZoneName) {
			add("domain %q is not inside hosted zone %q", d, c.HostedZoneName)
		}
	}
	if c.APIDomain == c.OriginDomain {
		add("api and origin domains must differ")
	}
	if !prefixListPattern.MatchString(c.CloudFrontPrefixListID) {
		add("cloudfront prefix list id %q is malformed", c.CloudFrontPrefixListID)
	}

	if c.DBInstanceType == "" || strings.HasPrefix(c.DBInstanceType, "db.") {
		add("db instance type %q must be set without the db. prefix", c.DBInstanceType)
	}
	if c.DBAllocatedStorageGiB < 20 || c.DBMaxAllocatedStorageGiB < c.DBAllocatedStorageGiB {
		add("db storage %d..%d GiB is invalid", c.DBAllocatedStorageGiB, c.DBMaxAllocatedStorageGiB)
	}
	if c.DBBackupRetentionDays < 1 || c.DBBackupRetentionDays > 35 {
		add("backup retention %d days must be 1..35 (0 disables point-in-time recovery)", c.DBBackupRetentionDays)
	}
	if c.Name == "prod" {
		if !c.DBMultiAZ {
			add("prod database must be Multi-AZ")
		}
		if c.DBBackupRetentionDays < 7 {
			add("prod backup retention must be at least 7 days")
		}
	} else if c.DBMultiAZ {
		add("only prod runs a Multi-AZ database")
	}
	if c.Name != "dev" && !c.DBDeletionProtection {
		add("staging and prod databases must have deletion protection")
	}
	if c.Name != "dev" && !c.RetainData {
		add("staging and prod must retain data on stack deletion")
	}
	switch c.DBMonitoringIntervalSeconds {
	case 0, 1, 5, 10, 15, 30, 60:
	default:
		add("monitoring interval %d s is not one RDS accepts", c.DBMonitoringIntervalSeconds)
	}

	checkTasks := func(what string, desired, lo, hi int) {
		if lo < 1 || lo > desired || desired > hi {
			add("%s tasks want 1 <= min(%d) <= desired(%d) <= max(%d)", what, lo, desired, hi)
		}
	}
	checkTasks("api", c.APIDesiredCount, c.APIMinTasks, c.APIMaxTasks)
	checkTasks("worker", c.WorkerDesiredCount, c.WorkerMinTasks, c.WorkerMaxTasks)
	if c.Name == "prod" && c.APIMinTasks < 2 {
		add("prod api needs at least 2 tasks (one per zone)")
	}
	for what, cm := range map[string][2]int{
		"api":     {c.APICPU, c.APIMemoryMiB},
		"worker":  {c.WorkerCPU, c.WorkerMemoryMiB},
		"migrate": {c.MigrateCPU, c.MigrateMemoryMiB},
	} {
		if !fargateSizeOK(cm[0], cm[1]) {
			add("%s cpu %d / memory %d MiB is not a Fargate size", what, cm[0], cm[1])
		}
	}
	if c.APIRequestsPerTask < 1 {
		add("api requests per task must be positive")
	}

	// S3 moves objects to STANDARD_IA after 30 days, and an expiration must
	// come after the transition.
	if c.RecordingsRetentionDays <= 30 {
		add("recordings retention %d days must exceed the 30-day STANDARD_IA transition", c.RecordingsRetentionDays)
	}
	if c.AccessLogRetentionDays < 1 {
		add("access log retention must be positive")
	}
	if c.LogRetention == "" {
		add("log retention is unset")
	}

	a := c.Alarms
	if a.API5xxRatePercent <= 0 || a.API5xxRatePercent > 100 {
		add("5xx rate threshold %v%% is out of range", a.API5xxRatePercent)
	}
	if a.APIP99LatencySeconds <= 0 || a.UnhealthyHosts < 1 || a.RDSCPUPercent <= 0 ||
		a.RDSCPUPercent > 100 || a.RDSFreeStorageGiB <= 0 || a.RDSFreeStorageGiB >= float64(c.DBAllocatedStorageGiB) ||
		a.QueueBacklog <= 0 {
		add("alarm thresholds %+v are out of range", a)
	}
	return errors.Join(errs...)
}

// fargateSizeOK reports whether cpu/memory is a valid Fargate combination
// (up to 4 vCPU, which is all AutoPulse needs).
func fargateSizeOK(cpu, mem int) bool {
	switch cpu {
	case 256:
		return mem == 512 || mem == 1024 || mem == 2048
	case 512:
		return mem >= 1024 && mem <= 4096 && mem%1024 == 0
	case 1024:
		return mem >= 2048 && mem <= 8192 && mem%1024 == 0
	case 2048:
		return mem >= 4096 && mem <= 16384 && mem%1024 == 0
	case 4096:
		return mem >= 8192 && mem <= 30720 && mem%1024 == 0
	}
	return false
}

// StackName is the CloudFormation stack name of one layer of the environment.
func (c EnvConfig) StackName(layer string) string {
	return "AutoPulse-" + c.Name + "-" + layer
}

// SecretName is the Secrets Manager name of one of the environment's secrets.
func (c EnvConfig) SecretName(name string) string {
	return "autopulse/" + c.Name + "/" + name
}
