package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// PostgresVersion is the RDS engine version: the major version the CI
// migration tests run against (the postgres:16 service container), so what
// passes CI is what runs in AWS, at the newest minor this CDK release knows.
// RDS applies later minors in the maintenance window (AutoMinorVersionUpgrade);
// CloudFormation leaves a newer live minor alone, so this constant only ever
// moves forward. (A bare "16" would track the default minor, but cfn-lint
// rejects it: W3691.)
func PostgresVersion() awsrds.PostgresEngineVersion { return awsrds.PostgresEngineVersion_VER_16_13() }

// ProviderSecrets maps each third-party credential's container variable to
// the last part of its Secrets Manager name (autopulse/<env>/<name>).
// The stack creates them with a random placeholder; operators put the real
// values in (docs/OPERATIONS.md, "Secrets").
var ProviderSecrets = []struct{ EnvVar, Name string }{
	{"AUTOPULSE_VAPI_API_KEY", "vapi-api-key"},
	{"AUTOPULSE_VAPI_WEBHOOK_SECRET", "vapi-webhook-secret"},
	{"AUTOPULSE_STRIPE_SECRET_KEY", "stripe-secret-key"},
	{"AUTOPULSE_STRIPE_WEBHOOK_SECRET", "stripe-webhook-secret"},
	{"AUTOPULSE_TWILIO_AUTH_TOKEN", "twilio-auth-token"},
}

// DataStack holds everything stateful: the database, its credentials, the
// application secrets and the recordings bucket. It changes rarely and is
// protected from deletion in staging and prod.
type DataStack struct {
	awscdk.Stack
	Key             awskms.Key
	DBSecurityGroup awsec2.SecurityGroup
	Database        awsrds.DatabaseInstance
	// MasterSecret holds the owner role's credentials (JSON: username,
	// password, host, port, dbname, engine); rotated every 30 days.
	MasterSecret awssecretsmanager.ISecret
	// AppDBSecret holds autopulse_app's credentials (JSON: username, password).
	AppDBSecret awssecretsmanager.Secret
	JWTSecret   awssecretsmanager.Secret
	// Providers are keyed by the container environment variable.
	Providers       map[string]awssecretsmanager.Secret
	Recordings      awss3.Bucket
	AccessLogBucket awss3.Bucket
}

// NewDataStack builds the database tier and the secrets and buckets the app uses.
func NewDataStack(scope constructs.Construct, id string, cfg EnvConfig, network *NetworkStack) *DataStack {
	stack := awscdk.NewStack(scope, jsii.String(id), regionalStackProps(cfg, "data: RDS PostgreSQL, secrets, recordings bucket"))
	d := &DataStack{Stack: stack, Providers: map[string]awssecretsmanager.Secret{}}
	retain := removalPolicy(cfg)

	d.Key = awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/autopulse/" + cfg.Name + "/data"),
		Description:       jsii.String("AutoPulse " + cfg.Name + ": RDS storage, Performance Insights and call recordings"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	d.DBSecurityGroup = awsec2.NewSecurityGroup(stack, jsii.String("DatabaseSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:         network.Vpc,
		Description: jsii.String("AutoPulse " + cfg.Name + " PostgreSQL: 5432 from the ECS task groups and the rotation Lambda only"),
		// The database never opens connections itself.
		AllowAllOutbound: jsii.Bool(false),
	})

	params := awsrds.NewParameterGroup(stack, jsii.String("Parameters"), &awsrds.ParameterGroupProps{
		Engine:      awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{Version: PostgresVersion()}),
		Description: jsii.String("AutoPulse " + cfg.Name + " PostgreSQL parameters"),
		Parameters:  DatabaseParameters(),
	})

	identifier := "autopulse-" + cfg.Name
	// RDS would create its export log groups itself, with no retention.
	// Creating them first (and making the instance depend on them) keeps the
	// retention policy without CDK's log-retention Lambda.
	exports := []string{"postgresql", "upgrade"}
	exportGroups := make([]awslogs.LogGroup, 0, len(exports))
	for _, export := range exports {
		exportGroups = append(exportGroups, awslogs.NewLogGroup(stack, jsii.String("RdsLog-"+export), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/aws/rds/instance/%s/%s", identifier, export)),
			Retention:     cfg.LogRetention,
			RemovalPolicy: retain,
		}))
	}

	// The schema owner's credentials. Kept with the data: the final snapshot
	// of a deleted instance is only useful with them.
	master := awsrds.NewDatabaseSecret(stack, jsii.String("MasterSecret"), &awsrds.DatabaseSecretProps{
		Username:   jsii.String(MasterUsername),
		SecretName: jsii.String(cfg.SecretName("db-master")),
	})
	master.ApplyRemovalPolicy(retain)

	props := &awsrds.DatabaseInstanceProps{
		Engine:                     awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{Version: PostgresVersion()}),
		InstanceIdentifier:         jsii.String(identifier),
		InstanceType:               awsec2.NewInstanceType(jsii.String(cfg.DBInstanceType)),
		Vpc:                        network.Vpc,
		VpcSubnets:                 &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups:             &[]awsec2.ISecurityGroup{d.DBSecurityGroup},
		PubliclyAccessible:         jsii.Bool(false),
		Port:                       jsii.Number(DatabasePort),
		DatabaseName:               jsii.String(DatabaseName),
		Credentials:                awsrds.Credentials_FromSecret(master, jsii.String(MasterUsername)),
		ParameterGroup:             params,
		MultiAz:                    jsii.Bool(cfg.DBMultiAZ),
		AllocatedStorage:           jsii.Number(float64(cfg.DBAllocatedStorageGiB)),
		MaxAllocatedStorage:        jsii.Number(float64(cfg.DBMaxAllocatedStorageGiB)),
		StorageType:                awsrds.StorageType_GP3,
		StorageEncrypted:           jsii.Bool(true),
		StorageEncryptionKey:       d.Key,
		BackupRetention:            awscdk.Duration_Days(jsii.Number(float64(cfg.DBBackupRetentionDays))),
		PreferredBackupWindow:      jsii.String("07:00-07:30"),         // 02:00-02:30 US Eastern (EST)
		PreferredMaintenanceWindow: jsii.String("sun:08:00-sun:08:30"), // after the backup window
		DeleteAutomatedBackups:     jsii.Bool(!cfg.RetainData),
		CopyTagsToSnapshot:         jsii.Bool(true),
		DeletionProtection:         jsii.Bool(cfg.DBDeletionProtection),
		RemovalPolicy:              awscdk.RemovalPolicy_SNAPSHOT,
		AutoMinorVersionUpgrade:    jsii.Bool(true),
		AllowMajorVersionUpgrade:   jsii.Bool(false),
		CaCertificate:              awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
		CloudwatchLogsExports:      jsii.Strings(exports...),
		EnablePerformanceInsights:  jsii.Bool(cfg.DBPerformanceInsights),
	}
	if cfg.DBPerformanceInsights {
		props.PerformanceInsightEncryptionKey = d.Key
		props.PerformanceInsightRetention = awsrds.PerformanceInsightRetention_DEFAULT
	}
	if cfg.DBMonitoringIntervalSeconds > 0 {
		props.MonitoringInterval = awscdk.Duration_Seconds(jsii.Number(float64(cfg.DBMonitoringIntervalSeconds)))
	}
	d.Database = awsrds.NewDatabaseInstance(stack, jsii.String("Postgres"), props)
	for _, g := range exportGroups {
		d.Database.Node().DefaultChild().Node().AddDependency(g)
	}
	d.MasterSecret = d.Database.Secret()

	// Single-user rotation of the master password by a Lambda that Secrets
	// Manager hosts. It runs in the private subnets (it needs the Secrets
	// Manager API through NAT) and is the one non-ECS client the database
	// security group admits.
	rotation := awssecretsmanager.HostedRotation_PostgreSqlSingleUser(&awssecretsmanager.SingleUserHostedRotationOptions{
		FunctionName: jsii.String("autopulse-" + cfg.Name + "-db-master-rotation"),
		Vpc:          network.Vpc,
		VpcSubnets:   &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
	})
	d.MasterSecret.AddRotationSchedule(jsii.String("Rotation"), &awssecretsmanager.RotationScheduleOptions{
		HostedRotation:     rotation,
		AutomaticallyAfter: awscdk.Duration_Days(jsii.Number(30)),
	})
	d.Database.Connections().AllowDefaultPortFrom(rotation, jsii.String("master password rotation Lambda"))

	// The app role's password: migrations (run with the master credentials)
	// set it on autopulse_app from AUTOPULSE_APP_DB_PASSWORD; the API and
	// worker log in with it.
	d.AppDBSecret = awssecretsmanager.NewSecret(stack, jsii.String("AppDbSecret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(cfg.SecretName("db-app")),
		Description: jsii.String("AutoPulse " + cfg.Name + ": login of the " + AppDBUsername + " database role (NOSUPERUSER NOBYPASSRLS)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"` + AppDBUsername + `"}`),
			GenerateStringKey:    jsii.String("password"),
			PasswordLength:       jsii.Number(40),
			// Only letters and digits: the value ends up in an ALTER ROLE
			// statement and in libpq's PGPASSWORD, where quoting is a risk.
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: retain,
	})

	d.JWTSecret = awssecretsmanager.NewSecret(stack, jsii.String("JwtSecret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(cfg.SecretName("jwt-secret")),
		Description: jsii.String("AutoPulse " + cfg.Name + ": HMAC key that signs access tokens (AUTOPULSE_JWT_SECRET)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: retain,
	})

	for _, p := range ProviderSecrets {
		d.Providers[p.EnvVar] = awssecretsmanager.NewSecret(stack, jsii.String("Provider-"+p.Name), &awssecretsmanager.SecretProps{
			SecretName:  jsii.String(cfg.SecretName(p.Name)),
			Description: jsii.String("AutoPulse " + cfg.Name + ": " + p.EnvVar + ". Created with a random placeholder; put the provider's value in before go-live."),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				PasswordLength:     jsii.Number(32),
				ExcludePunctuation: jsii.Bool(true),
			},
			RemovalPolicy: retain,
		})
	}

	d.AccessLogBucket = awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		// S3 server access logs can only be delivered to an SSE-S3 bucket.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(false),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.AccessLogRetentionDays))),
		}},
		RemovalPolicy: retain,
	})

	d.Recordings = awss3.NewBucket(stack, jsii.String("Recordings"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          d.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: d.AccessLogBucket,
		ServerAccessLogsPrefix: jsii.String("recordings-bucket/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id: jsii.String("recordings-tiering-and-retention"),
			Transitions: &[]*awss3.Transition{{
				StorageClass:    awss3.StorageClass_INFREQUENT_ACCESS(),
				TransitionAfter: awscdk.Duration_Days(jsii.Number(30)),
			}},
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.RecordingsRetentionDays))),
			// Overwritten or deleted recordings stay restorable for 30 days
			// (docs/OPERATIONS.md, "Restoring recordings").
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			ExpiredObjectDeleteMarker:           nil,
		}},
		RemovalPolicy: retain,
	})

	d.suppressNag(cfg)
	return d
}

// DatabaseParameters is the PostgreSQL parameter group's content.
func DatabaseParameters() *map[string]*string {
	return &map[string]*string{
		"rds.force_ssl":               jsii.String("1"),
		"log_min_duration_statement":  jsii.String("500"), // ms: log every statement slower than this
		"log_connections":             jsii.String("1"),
		"log_disconnections":          jsii.String("1"),
		"log_lock_waits":              jsii.String("1"),
		"log_temp_files":              jsii.String("10240"), // kB
		"log_autovacuum_min_duration": jsii.String("1000"),  // ms
		// Kill sessions that hold a transaction open and do nothing: they
		// block vacuum and River's job table maintenance.
		"idle_in_transaction_session_timeout": jsii.String("300000"), // ms
	}
}

func (d *DataStack) suppressNag(cfg EnvConfig) {
	suppress(d.Database,
		nag("AwsSolutions-RDS11", "PostgreSQL keeps its standard port 5432: the app, libpq tooling (PGPORT) and the runbook expect it, and the instance sits in isolated subnets reachable only from the ECS and rotation security groups, so a non-default port would add no protection."),
	)
	if !cfg.DBMultiAZ {
		suppress(d.Database, nag("AwsSolutions-RDS3",
			"Multi-AZ is a prod-only cost decision: "+cfg.Name+" tolerates an AZ outage of its single instance and recovers from automated backups (point-in-time restore)."))
	}
	if !cfg.DBDeletionProtection {
		suppress(d.Database, nag("AwsSolutions-RDS10",
			"Deletion protection is on in staging and prod; dev's database is disposable (re-created and re-seeded) and stack deletion still takes a final snapshot (RemovalPolicy SNAPSHOT)."))
	}
	if cfg.DBMonitoringIntervalSeconds > 0 {
		if role := d.Database.Node().TryFindChild(jsii.String("MonitoringRole")); role != nil {
			suppress(role, nagFor("AwsSolutions-IAM4",
				"RDS enhanced monitoring requires the AWS-managed AmazonRDSEnhancedMonitoringRole policy; it only lets the RDS monitoring service write OS metrics to CloudWatch Logs.",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"))
		}
	}
	suppress(d.AppDBSecret, nag("AwsSolutions-SMG4",
		"The autopulse_app password is rotated by the runbook (new secret value, then the migrate task sets it on the role, then services restart): a Lambda rotation would change it without the coordinated restart and lock the API out."))
	suppress(d.JWTSecret, nag("AwsSolutions-SMG4",
		"The JWT signing key is rotated by hand (docs/OPERATIONS.md): rotating it invalidates every access token, so it is done on purpose in a quiet window, never by a schedule."))
	for envVar, s := range d.Providers {
		suppress(s, nag("AwsSolutions-SMG4",
			envVar+" is issued by the third-party provider (Vapi, Stripe or Twilio); it can only be rotated in the provider's console, then pasted here, so there is no Lambda that could rotate it."))
	}
}
