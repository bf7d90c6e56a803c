package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Output keys of the platform stack that the deploy pipeline reads to run
// the migration task (aws ecs run-task) before it updates the services. The
// subnets come from the network stack's OutputPrivateSubnets.
const (
	OutputClusterName          = "ClusterName"
	OutputMigrateTaskDef       = "MigrateTaskDefinitionArn"
	OutputMigrateSecurityGroup = "MigrateSecurityGroup"
	OutputMigrateContainer     = "MigrateContainerName"
	OutputMigrateLogGroup      = "MigrateLogGroup"
	OutputRepositoryName       = "EcrRepositoryName"
	OutputRepositoryURI        = "EcrRepositoryUri"
	OutputLoadBalancerDNS      = "LoadBalancerDnsName"
)

// PlatformStack is everything the services run on but that does not change
// with each release of the image: the image registry, the cluster, the load
// balancer and its DNS name, the task security groups, the log groups, and
// the migration task (its image tag does change; running it is the
// pipeline's first step of a release).
type PlatformStack struct {
	awscdk.Stack
	Repository    awsecr.Repository
	Cluster       awsecs.Cluster
	LoadBalancer  awselasticloadbalancingv2.ApplicationLoadBalancer
	HTTPSListener awselasticloadbalancingv2.ApplicationListener
	TargetGroup   awselasticloadbalancingv2.ApplicationTargetGroup
	ALBSecurityGroup,
	APISecurityGroup,
	WorkerSecurityGroup,
	MigrateSecurityGroup awsec2.SecurityGroup
	APILogs, WorkerLogs, MigrateLogs awslogs.LogGroup
	MigrateTask                      awsecs.FargateTaskDefinition
	OriginRecord                     awsroute53.ARecord
	Certificate                      awscertificatemanager.Certificate
}

// NewPlatformStack builds the ECR repository, ECS cluster, ALB and the
// migration task definition.
func NewPlatformStack(scope constructs.Construct, id string, cfg EnvConfig, network *NetworkStack, data *DataStack) *PlatformStack {
	stack := awscdk.NewStack(scope, jsii.String(id), regionalStackProps(cfg, "platform: ECR, ECS cluster, ALB, migration task"))
	p := &PlatformStack{Stack: stack}
	retain := removalPolicy(cfg)
	vpc := network.Vpc

	p.Repository = awsecr.NewRepository(stack, jsii.String("Repository"), &awsecr.RepositoryProps{
		RepositoryName:     jsii.String("autopulse-" + cfg.Name),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		Encryption:         awsecr.RepositoryEncryption_AES_256(),
		LifecycleRules: &[]*awsecr.LifecycleRule{
			{
				RulePriority: jsii.Number(1),
				Description:  jsii.String("drop untagged layers left by failed pushes"),
				TagStatus:    awsecr.TagStatus_UNTAGGED,
				MaxImageAge:  awscdk.Duration_Days(jsii.Number(7)),
			},
			{
				RulePriority:  jsii.Number(2),
				Description:   jsii.String("keep the last 100 releases for rollback"),
				TagStatus:     awsecr.TagStatus_ANY,
				MaxImageCount: jsii.Number(100),
			},
		},
		RemovalPolicy: retain,
		// dev's repository may be deleted with its images (a CloudFormation
		// property, no custom resource); staging and prod keep theirs.
		EmptyOnDelete: jsii.Bool(!cfg.RetainData),
	})

	p.Cluster = awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		ClusterName:         jsii.String("autopulse-" + cfg.Name),
		Vpc:                 vpc,
		ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})

	p.ALBSecurityGroup = awsec2.NewSecurityGroup(stack, jsii.String("AlbSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("AutoPulse " + cfg.Name + " ALB: 443/80 from CloudFront origin-facing addresses only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	cloudFront := awsec2.Peer_PrefixList(jsii.String(cfg.CloudFrontPrefixListID))
	p.ALBSecurityGroup.AddIngressRule(cloudFront, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from CloudFront"), nil)
	p.ALBSecurityGroup.AddIngressRule(cloudFront, awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from CloudFront (redirected to HTTPS)"), nil)

	taskSG := func(id, what string) awsec2.SecurityGroup {
		return awsec2.NewSecurityGroup(stack, jsii.String(id), &awsec2.SecurityGroupProps{
			Vpc:         vpc,
			Description: jsii.String("AutoPulse " + cfg.Name + " " + what),
			// Tasks call Vapi, Stripe, Twilio and AWS APIs on the internet
			// through NAT; there is no fixed set of addresses to pin.
			AllowAllOutbound: jsii.Bool(true),
		})
	}
	p.APISecurityGroup = taskSG("ApiTasks", "API tasks: 8080 from the ALB only")
	p.WorkerSecurityGroup = taskSG("WorkerTasks", "worker tasks: no inbound traffic")
	p.MigrateSecurityGroup = taskSG("MigrateTasks", "migration task: no inbound traffic")

	p.APISecurityGroup.AddIngressRule(p.ALBSecurityGroup, awsec2.Port_Tcp(jsii.Number(AppPort)), jsii.String("HTTP from the ALB"), nil)
	p.ALBSecurityGroup.AddEgressRule(p.APISecurityGroup, awsec2.Port_Tcp(jsii.Number(AppPort)), jsii.String("to the API tasks"), nil)

	// The database admits exactly the three task groups. The rules live in
	// this stack (not next to the database's group) so the data stack never
	// depends on the platform stack.
	for _, src := range []struct {
		id string
		sg awsec2.SecurityGroup
	}{{"DbIngressFromApi", p.APISecurityGroup}, {"DbIngressFromWorker", p.WorkerSecurityGroup}, {"DbIngressFromMigrate", p.MigrateSecurityGroup}} {
		awsec2.NewCfnSecurityGroupIngress(stack, jsii.String(src.id), &awsec2.CfnSecurityGroupIngressProps{
			GroupId:               data.DBSecurityGroup.SecurityGroupId(),
			SourceSecurityGroupId: src.sg.SecurityGroupId(),
			IpProtocol:            jsii.String("tcp"),
			FromPort:              jsii.Number(DatabasePort),
			ToPort:                jsii.Number(DatabasePort),
			Description:           jsii.String("PostgreSQL from " + src.id[len("DbIngressFrom"):] + " tasks"),
		})
	}

	logGroup := func(id, name string) awslogs.LogGroup {
		return awslogs.NewLogGroup(stack, jsii.String(id), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String("/autopulse/" + cfg.Name + "/" + name),
			Retention:     cfg.LogRetention,
			RemovalPolicy: retain,
		})
	}
	p.APILogs = logGroup("ApiLogs", "api")
	p.WorkerLogs = logGroup("WorkerLogs", "worker")
	p.MigrateLogs = logGroup("MigrateLogs", "migrate")

	zone := importZone(stack, cfg)
	// CloudFront forwards the viewer's Host header (the API domain) and
	// validates the origin's certificate against it, so the ALB's
	// certificate carries the API domain as well as its own origin name.
	p.Certificate = awscertificatemanager.NewCertificate(stack, jsii.String("OriginCertificate"), &awscertificatemanager.CertificateProps{
		DomainName:              jsii.String(cfg.APIDomain),
		SubjectAlternativeNames: jsii.Strings(cfg.OriginDomain),
		Validation:              awscertificatemanager.CertificateValidation_FromDns(zone),
	})

	albLogs := awss3.NewBucket(stack, jsii.String("AlbAccessLogs"), &awss3.BucketProps{
		// ALB access logs can only be written to SSE-S3 buckets.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-alb-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.AccessLogRetentionDays))),
		}},
		RemovalPolicy: retain,
	})
	suppress(albLogs, nag("AwsSolutions-S1",
		"This bucket only receives the ALB's access logs; logging access to it into itself would loop, and CloudTrail data events cover who reads it."))

	p.LoadBalancer = awselasticloadbalancingv2.NewApplicationLoadBalancer(stack, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc:                     vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroup:           p.ALBSecurityGroup,
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(cfg.RetainData),
		IdleTimeout:             awscdk.Duration_Seconds(jsii.Number(60)),
		Http2Enabled:            jsii.Bool(true),
	})
	p.LoadBalancer.LogAccessLogs(albLogs, jsii.String("alb"))

	p.TargetGroup = awselasticloadbalancingv2.NewApplicationTargetGroup(stack, jsii.String("ApiTargetGroup"), &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc:        vpc,
		Port:       jsii.Number(AppPort),
		Protocol:   awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		TargetType: awselasticloadbalancingv2.TargetType_IP,
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Path:                    jsii.String(HealthCheckPath),
			HealthyHttpCodes:        jsii.String("200"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(15)),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(DeregistrationDelaySeconds)),
	})

	p.HTTPSListener = p.LoadBalancer.AddListener(jsii.String("Https"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:                jsii.Number(443),
		Protocol:            awselasticloadbalancingv2.ApplicationProtocol_HTTPS,
		Certificates:        &[]awselasticloadbalancingv2.IListenerCertificate{awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(p.Certificate)},
		SslPolicy:           awselasticloadbalancingv2.SslPolicy_RECOMMENDED_TLS,
		DefaultTargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{p.TargetGroup},
		Open:                jsii.Bool(false),
	})
	p.LoadBalancer.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:     jsii.Number(80),
		Protocol: awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		DefaultAction: awselasticloadbalancingv2.ListenerAction_Redirect(&awselasticloadbalancingv2.RedirectOptions{
			Protocol:  jsii.String("HTTPS"),
			Port:      jsii.String("443"),
			Permanent: jsii.Bool(true),
		}),
		Open: jsii.Bool(false),
	})

	p.OriginRecord = awsroute53.NewARecord(stack, jsii.String("OriginRecord"), &awsroute53.ARecordProps{
		Zone:       zone,
		RecordName: jsii.String(cfg.OriginDomain),
		Comment:    jsii.String("CloudFront origin: the " + cfg.Name + " ALB"),
		Target:     awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(p.LoadBalancer, nil)),
	})

	tag := ImageTag(stack, cfg)
	p.MigrateTask = newAppTask(stack, cfg, taskSpec{
		name:     "migrate",
		cpu:      cfg.MigrateCPU,
		mem:      cfg.MigrateMemoryMiB,
		command:  []string{"migrate", "up"},
		env:      MigrateEnvironment(data),
		secrets:  MigrateSecrets(data),
		logGroup: p.MigrateLogs,
		repo:     p.Repository,
		tag:      tag,
	})

	out := func(key, value, description string) {
		awscdk.NewCfnOutput(stack, jsii.String(key), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(description)})
	}
	out(OutputClusterName, *p.Cluster.ClusterName(), "ECS cluster (aws ecs run-task --cluster)")
	out(OutputMigrateTaskDef, *p.MigrateTask.TaskDefinitionArn(), "migration task definition, pinned to this release's image (aws ecs run-task --task-definition)")
	out(OutputMigrateSecurityGroup, *p.MigrateSecurityGroup.SecurityGroupId(), "security group of the migration task (awsvpcConfiguration.securityGroups)")
	out(OutputMigrateContainer, "migrate", "container name, for command overrides (migrate status, migrate down 1)")
	out(OutputMigrateLogGroup, *p.MigrateLogs.LogGroupName(), "CloudWatch log group of the migration task")
	out(OutputRepositoryName, *p.Repository.RepositoryName(), "ECR repository the pipeline pushes to")
	out(OutputRepositoryURI, *p.Repository.RepositoryUri(), "ECR repository URI")
	out(OutputLoadBalancerDNS, *p.LoadBalancer.LoadBalancerDnsName(), "ALB DNS name (reached through "+cfg.OriginDomain+")")

	return p
}

// importZone imports the environment's existing public hosted zone by its
// id and name: no lookup, so synthesis stays offline.
func importZone(scope constructs.Construct, cfg EnvConfig) awsroute53.IHostedZone {
	return awsroute53.HostedZone_FromHostedZoneAttributes(scope, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(cfg.HostedZoneID),
		ZoneName:     jsii.String(cfg.HostedZoneName),
	})
}

// ImageTag returns the image tag the task definitions run: the imageTag
// context value (the git SHA the pipeline pushed). ECR tags are immutable,
// so "latest" would never move: it is refused. Without a tag, dev and
// staging synthesize with a placeholder and a warning; prod gets an error
// annotation, which fails synthesis (the committed context turns error
// annotations into synthesis failures), so prod cannot be deployed without
// an explicit image.
func ImageTag(scope constructs.Construct, cfg EnvConfig) string {
	const placeholder = "unset"
	v := scope.Node().TryGetContext(jsii.String(ImageTagContextKey))
	tag, _ := v.(string)
	switch {
	case tag == "latest":
		awscdk.Annotations_Of(scope).AddError(jsii.String("imageTag \"latest\" is not allowed: repositories have immutable tags; deploy a git SHA (-c imageTag=<sha>)"))
	case tag == "" && cfg.Name == "prod":
		awscdk.Annotations_Of(scope).AddError(jsii.String("prod needs an explicit image: cdk ... -c imageTag=<git sha> (go run . -image-tag <git sha>)"))
		tag = placeholder
	case tag == "":
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("autopulse:imageTag"), jsii.String("no imageTag context: task definitions reference the placeholder tag \""+placeholder+"\"; pass -c imageTag=<git sha> to deploy"), nil)
		tag = placeholder
	}
	return tag
}
