package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Output keys of the services stack.
const (
	OutputAPIService    = "ApiServiceName"
	OutputWorkerService = "WorkerServiceName"
)

// Target-tracking goals of the service autoscaling.
const (
	APICPUTargetPercent    = 60
	WorkerCPUTargetPercent = 70
)

// ServicesStack holds the long-running Fargate services. It is deployed
// after the migration task has succeeded, so new code only ever starts
// against a schema that is already migrated.
type ServicesStack struct {
	awscdk.Stack
	API        awsecs.FargateService
	Worker     awsecs.FargateService
	APITask    awsecs.FargateTaskDefinition
	WorkerTask awsecs.FargateTaskDefinition
}

// NewServicesStack builds the API service (behind the ALB's target group) and
// the worker service, both with rolling deployments guarded by the ECS
// deployment circuit breaker, and their autoscaling.
func NewServicesStack(scope constructs.Construct, id string, cfg EnvConfig, data *DataStack, platform *PlatformStack) *ServicesStack {
	stack := awscdk.NewStack(scope, jsii.String(id), regionalStackProps(cfg, "services: API and worker on Fargate"))
	s := &ServicesStack{Stack: stack}
	tag := ImageTag(stack, cfg)
	privateSubnets := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}

	s.APITask = newAppTask(stack, cfg, taskSpec{
		name: "api", cpu: cfg.APICPU, mem: cfg.APIMemoryMiB,
		command:  []string{"serve"},
		env:      APIEnvironment(data),
		secrets:  AppSecrets(data),
		logGroup: platform.APILogs,
		repo:     platform.Repository,
		tag:      tag,
		httpPort: true,
	})
	grantRecordings(s.APITask.TaskRole(), data)
	recordingsNag(s.APITask.TaskRole())

	s.WorkerTask = newAppTask(stack, cfg, taskSpec{
		name: "worker", cpu: cfg.WorkerCPU, mem: cfg.WorkerMemoryMiB,
		command:  []string{"worker"},
		env:      AppEnvironment(data),
		secrets:  AppSecrets(data),
		logGroup: platform.WorkerLogs,
		repo:     platform.Repository,
		tag:      tag,
	})
	grantRecordings(s.WorkerTask.TaskRole(), data)
	recordingsNag(s.WorkerTask.TaskRole())

	rolling := func(id string, td awsecs.FargateTaskDefinition, desired int, sg awsec2.ISecurityGroup) awsecs.FargateService {
		props := &awsecs.FargateServiceProps{
			Cluster:            platform.Cluster,
			TaskDefinition:     td,
			DesiredCount:       jsii.Number(float64(desired)),
			VpcSubnets:         privateSubnets,
			SecurityGroups:     &[]awsec2.ISecurityGroup{sg},
			AssignPublicIp:     jsii.Bool(false),
			PlatformVersion:    awsecs.FargatePlatformVersion_LATEST,
			DeploymentStrategy: awsecs.DeploymentStrategy_ROLLING,
			// Start the new tasks before stopping old ones; never drop below
			// the current count.
			MinHealthyPercent: jsii.Number(100),
			MaxHealthyPercent: jsii.Number(200),
			// A release whose tasks keep failing to start or to pass health
			// checks is stopped and the previous task definition restored.
			CircuitBreaker:       &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
			EnableECSManagedTags: jsii.Bool(true),
			PropagateTags:        awsecs.PropagatedTagSource_SERVICE,
			EnableExecuteCommand: jsii.Bool(false),
		}
		if id == "Api" {
			// Time for the app to connect to the database and warm up
			// before failed /readyz checks count.
			props.HealthCheckGracePeriod = awscdk.Duration_Seconds(jsii.Number(60))
		}
		return awsecs.NewFargateService(stack, jsii.String(id), props)
	}

	s.API = rolling("Api", s.APITask, cfg.APIDesiredCount, platform.APISecurityGroup)
	s.API.AttachToApplicationTargetGroup(platform.TargetGroup)
	apiScaling := s.API.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(cfg.APIMinTasks)),
		MaxCapacity: jsii.Number(float64(cfg.APIMaxTasks)),
	})
	apiScaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(APICPUTargetPercent),
		ScaleOutCooldown:         awscdk.Duration_Seconds(jsii.Number(60)),
		ScaleInCooldown:          awscdk.Duration_Seconds(jsii.Number(300)),
	})
	apiScaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
		RequestsPerTarget: jsii.Number(float64(cfg.APIRequestsPerTask)),
		TargetGroup:       platform.TargetGroup,
		ScaleOutCooldown:  awscdk.Duration_Seconds(jsii.Number(60)),
		ScaleInCooldown:   awscdk.Duration_Seconds(jsii.Number(300)),
	})

	s.Worker = rolling("Worker", s.WorkerTask, cfg.WorkerDesiredCount, platform.WorkerSecurityGroup)
	workerScaling := s.Worker.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(cfg.WorkerMinTasks)),
		MaxCapacity: jsii.Number(float64(cfg.WorkerMaxTasks)),
	})
	workerScaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(WorkerCPUTargetPercent),
		ScaleOutCooldown:         awscdk.Duration_Seconds(jsii.Number(60)),
		ScaleInCooldown:          awscdk.Duration_Seconds(jsii.Number(300)),
	})

	awscdk.NewCfnOutput(stack, jsii.String(OutputAPIService), &awscdk.CfnOutputProps{
		Value: s.API.ServiceName(), Description: jsii.String("API service (aws ecs wait services-stable)"),
	})
	awscdk.NewCfnOutput(stack, jsii.String(OutputWorkerService), &awscdk.CfnOutputProps{
		Value: s.Worker.ServiceName(), Description: jsii.String("worker service (aws ecs wait services-stable)"),
	})
	return s
}
