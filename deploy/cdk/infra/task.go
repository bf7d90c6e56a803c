package infra

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// taskSpec describes one of the three ways the image runs: api, worker, migrate.
type taskSpec struct {
	name     string // api, worker or migrate: container name and family suffix
	cpu, mem int
	command  []string
	env      map[string]*string
	secrets  map[string]awsecs.Secret
	logGroup awslogs.ILogGroup
	repo     awsecr.IRepository
	tag      string
	httpPort bool // map AppPort (only the API takes traffic)
}

// newAppTask builds a Fargate task definition running the AutoPulse image
// hardened the same way for every role: non-root user, read-only root
// filesystem with a scratch /tmp, logs to the role's own log group, and a
// stop timeout longer than the app's drain timeout.
func newAppTask(scope constructs.Construct, cfg EnvConfig, spec taskSpec) awsecs.FargateTaskDefinition {
	td := awsecs.NewFargateTaskDefinition(scope, jsii.String(title(spec.name)+"TaskDefinition"), &awsecs.FargateTaskDefinitionProps{
		Family:         jsii.String("autopulse-" + cfg.Name + "-" + spec.name),
		Cpu:            jsii.Number(float64(spec.cpu)),
		MemoryLimitMiB: jsii.Number(float64(spec.mem)),
		// The CI image build runs on x86_64 runners.
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	td.AddVolume(&awsecs.Volume{Name: jsii.String("tmp")})

	opts := &awsecs.ContainerDefinitionOptions{
		ContainerName:          jsii.String(spec.name),
		Image:                  awsecs.ContainerImage_FromEcrRepository(spec.repo, jsii.String(spec.tag)),
		Command:                jsii.Strings(spec.command...),
		Essential:              jsii.Bool(true),
		User:                   jsii.String(ContainerUser),
		ReadonlyRootFilesystem: jsii.Bool(true),
		StopTimeout:            awscdk.Duration_Seconds(jsii.Number(StopTimeoutSeconds)),
		Environment:            &spec.env,
		Secrets:                &spec.secrets,
		Logging: awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     spec.logGroup,
			StreamPrefix: jsii.String(spec.name),
			// Never block the app on CloudWatch back-pressure.
			Mode:          awsecs.AwsLogDriverMode_NON_BLOCKING,
			MaxBufferSize: awscdk.Size_Mebibytes(jsii.Number(25)),
		}),
	}
	if spec.httpPort {
		opts.PortMappings = &[]*awsecs.PortMapping{{
			Name:          jsii.String("http"),
			ContainerPort: jsii.Number(AppPort),
			Protocol:      awsecs.Protocol_TCP,
		}}
	}
	c := td.AddContainer(jsii.String(spec.name), opts)
	c.AddMountPoints(&awsecs.MountPoint{
		ContainerPath: jsii.String("/tmp"),
		SourceVolume:  jsii.String("tmp"),
		ReadOnly:      jsii.Bool(false),
	})

	suppress(td, nag("AwsSolutions-ECS2",
		"Only non-secret settings are plain environment variables (listen addresses, AUTOPULSE_ENV, DB host/port, bucket name and KMS key ARN); every credential is injected from Secrets Manager through the task definition's secrets."))
	if role := td.ExecutionRole(); role != nil {
		suppressPolicies(role, nagFor("AwsSolutions-IAM5",
			"ecr:GetAuthorizationToken has no resource-level permissions; AWS requires Resource * for it. Image pulls themselves are limited to the AutoPulse repository.",
			"Resource::*"))
	}
	return td
}

// dbEnv is the connection part of every container's environment: libpq
// variables on top of a DSN that names only the database and the TLS mode.
func dbEnv(data *DataStack) map[string]*string {
	return map[string]*string{
		"DATABASE_URL": jsii.String("postgres:///" + DatabaseName + "?sslmode=require"),
		"PGHOST":       data.Database.DbInstanceEndpointAddress(),
		"PGPORT":       data.Database.DbInstanceEndpointPort(),
	}
}

// AppEnvironment is the plain environment of the API and worker containers.
func AppEnvironment(data *DataStack) map[string]*string {
	env := dbEnv(data)
	env["AUTOPULSE_ENV"] = jsii.String("production")
	env["AUTOPULSE_LISTEN"] = jsii.String("0.0.0.0:" + strconv.Itoa(AppPort))
	env["AUTOPULSE_METRICS_LISTEN"] = jsii.String("0.0.0.0:" + strconv.Itoa(MetricsPort))
	env["AUTOPULSE_SHUTDOWN_TIMEOUT"] = jsii.String(fmt.Sprintf("%ds", ShutdownTimeoutSeconds))
	env["AUTOPULSE_BLOB_S3_BUCKET"] = data.Recordings.BucketName()
	env["AUTOPULSE_BLOB_S3_PREFIX"] = jsii.String(RecordingsPrefix)
	// The blob store sends SSE-S3 by default on every PutObject, which would
	// override the bucket's KMS default: ask for the data key explicitly.
	env["AUTOPULSE_BLOB_S3_SSE"] = jsii.String("aws:kms")
	env["AUTOPULSE_BLOB_S3_KMS_KEY_ID"] = data.Key.KeyArn()
	return env
}

// APIEnvironment is AppEnvironment plus what only the API service needs.
func APIEnvironment(data *DataStack) map[string]*string {
	env := AppEnvironment(data)
	// Jobs run in the worker service; the API tasks only serve HTTP.
	env["AUTOPULSE_WORKERS"] = jsii.String("false")
	// CloudFront and the ALB each append to X-Forwarded-For: the client's
	// address is the second entry from the right.
	env["AUTOPULSE_PROXY_HOPS"] = jsii.String("2")
	return env
}

// AppSecrets is what the API and worker containers read from Secrets
// Manager: the app role's login, the JWT key and the provider credentials.
func AppSecrets(data *DataStack) map[string]awsecs.Secret {
	s := map[string]awsecs.Secret{
		"PGUSER":               awsecs.Secret_FromSecretsManager(data.AppDBSecret, jsii.String("username")),
		"PGPASSWORD":           awsecs.Secret_FromSecretsManager(data.AppDBSecret, jsii.String("password")),
		"AUTOPULSE_JWT_SECRET": awsecs.Secret_FromSecretsManager(data.JWTSecret, nil),
	}
	for envVar, secret := range data.Providers {
		s[envVar] = awsecs.Secret_FromSecretsManager(secret, nil)
	}
	return s
}

// MigrateEnvironment is the plain environment of the one-off migration task.
func MigrateEnvironment(data *DataStack) map[string]*string {
	env := dbEnv(data)
	env["AUTOPULSE_ENV"] = jsii.String("production")
	return env
}

// MigrateSecrets logs the migration task in as the schema owner (the RDS
// master user) and hands it the app role's password to (re)set. It also
// gets the JWT key: the app validates its whole production configuration
// before any subcommand, migrate included, and refuses to run without one.
func MigrateSecrets(data *DataStack) map[string]awsecs.Secret {
	return map[string]awsecs.Secret{
		"PGUSER":                    awsecs.Secret_FromSecretsManager(data.MasterSecret, jsii.String("username")),
		"PGPASSWORD":                awsecs.Secret_FromSecretsManager(data.MasterSecret, jsii.String("password")),
		"AUTOPULSE_APP_DB_PASSWORD": awsecs.Secret_FromSecretsManager(data.AppDBSecret, jsii.String("password")),
		"AUTOPULSE_JWT_SECRET":      awsecs.Secret_FromSecretsManager(data.JWTSecret, nil),
	}
}

// grantRecordings lets a task role read, write and delete objects under the
// recordings/ prefix of the recordings bucket, and list only that prefix.
func grantRecordings(role awsiam.IRole, data *DataStack) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RecordingsObjects"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		Resources: jsii.Strings(*data.Recordings.ArnForObjects(jsii.String(RecordingsPrefix + "*"))),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RecordingsList"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*data.Recordings.BucketArn()),
		Conditions: &map[string]any{
			"StringLike": map[string]any{"s3:prefix": []string{RecordingsPrefix + "*"}},
		},
	}))
	// SSE-KMS: writing needs a data key, reading needs decrypt.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RecordingsKey"),
		Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources: jsii.Strings(*data.Key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "s3." + *awscdk.Stack_Of(data.Key).Region() + ".amazonaws.com"},
		},
	}))
}

// recordingsNag explains the one wildcard the recordings grant needs.
func recordingsNag(role awsiam.IRole) {
	suppressPolicies(role, nagFor("AwsSolutions-IAM5",
		"Call recordings are stored under generated keys below recordings/; the task can only touch objects under that prefix (and list only that prefix), never the rest of the bucket.",
		map[string]string{"regex": `/^Resource::.*\/recordings\/\*$/`}))
}

func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
