package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ObservabilityStack is the dashboard, the alarms and the topic they notify.
type ObservabilityStack struct {
	awscdk.Stack
	Topic      awssns.Topic
	Dashboard  awscloudwatch.Dashboard
	QueueDepth awslogs.MetricFilter
	// Alarms are keyed by a short name: Api5xxRate, ApiP99Latency,
	// ApiUnhealthyHosts, DbCpu, DbFreeStorage, QueueBacklog.
	Alarms map[string]awscloudwatch.Alarm
}

// NewObservabilityStack builds the CloudWatch dashboard and alarms of one
// environment. The job-queue depth comes from a metric filter on the
// worker's log group (see docs/DEPLOY.md for the log line it expects).
func NewObservabilityStack(scope constructs.Construct, id string, cfg EnvConfig, data *DataStack, platform *PlatformStack, services *ServicesStack) *ObservabilityStack {
	stack := awscdk.NewStack(scope, jsii.String(id), regionalStackProps(cfg, "observability: dashboard, alarms, SNS"))
	o := &ObservabilityStack{Stack: stack, Alarms: map[string]awscloudwatch.Alarm{}}

	key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/autopulse/" + cfg.Name + "/alarms"),
		Description:       jsii.String("AutoPulse " + cfg.Name + ": encrypts the alarm SNS topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(cfg),
	})
	// CloudWatch alarms publish to the encrypted topic with their own
	// service principal, which needs the key.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account}},
	}), nil)

	o.Topic = awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String("autopulse-" + cfg.Name + "-alarms"),
		DisplayName: jsii.String("AutoPulse " + cfg.Name + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.AlarmEmail != "" {
		o.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}

	o.QueueDepth = awslogs.NewMetricFilter(stack, jsii.String("QueueDepthFilter"), &awslogs.MetricFilterProps{
		LogGroup:        platform.WorkerLogs,
		FilterPattern:   awslogs.FilterPattern_NumberValue(jsii.String("$."+QueueDepthMetric), jsii.String(">="), jsii.Number(0)),
		MetricNamespace: jsii.String(QueueDepthNamespace),
		MetricName:      jsii.String(QueueDepthMetric),
		MetricValue:     jsii.String("$." + QueueDepthMetric),
		Unit:            awscloudwatch.Unit_COUNT,
	})

	five := awscdk.Duration_Minutes(jsii.Number(5))
	one := awscdk.Duration_Minutes(jsii.Number(1))
	alb := platform.LoadBalancer.Metrics()
	tg := platform.TargetGroup.Metrics()

	requests := alb.RequestCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five, Label: jsii.String("requests")})
	fiveXXRate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		// Below 20 requests in 5 minutes a single error is noise, not a rate.
		Expression: jsii.String("IF(req >= 20, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / req, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"req":       requests,
			"elb5xx":    alb.HttpCodeElb(awselasticloadbalancingv2.HttpCodeElb_ELB_5XX_COUNT, &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}),
			"target5xx": alb.HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}),
		},
		Label:  jsii.String("5xx rate (%)"),
		Period: five,
	})
	p50 := tg.TargetResponseTime(&awscloudwatch.MetricOptions{Statistic: jsii.String("p50"), Period: one, Label: jsii.String("p50")})
	p99 := tg.TargetResponseTime(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: one, Label: jsii.String("p99")})
	p99Alarm := tg.TargetResponseTime(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five})
	unhealthy := tg.UnhealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: one})
	dbCPU := data.Database.MetricCPUUtilization(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: five})
	dbConns := data.Database.MetricDatabaseConnections(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: one})
	dbFree := data.Database.MetricFreeStorageSpace(&awscloudwatch.MetricOptions{Statistic: jsii.String("Minimum"), Period: five})
	queue := o.QueueDepth.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five, Label: jsii.String("available jobs")})

	a := cfg.Alarms
	alarm := func(name string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, periods, datapoints float64, missing awscloudwatch.TreatMissingData, description string) {
		al := awscloudwatch.NewAlarm(stack, jsii.String(name), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String("autopulse-" + cfg.Name + "-" + name),
			AlarmDescription:   jsii.String(description + " Runbook: docs/OPERATIONS.md."),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: op,
			EvaluationPeriods:  jsii.Number(periods),
			DatapointsToAlarm:  jsii.Number(datapoints),
			TreatMissingData:   missing,
		})
		al.AddAlarmAction(awscloudwatchactions.NewSnsAction(o.Topic))
		al.AddOkAction(awscloudwatchactions.NewSnsAction(o.Topic))
		o.Alarms[name] = al
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING
	alarm("Api5xxRate", fiveXXRate, a.API5xxRatePercent, gt, 2, 2, notBreaching,
		fmt.Sprintf("More than %g%% of API requests failed with 5xx for 10 minutes.", a.API5xxRatePercent))
	alarm("ApiP99Latency", p99Alarm, a.APIP99LatencySeconds, gt, 3, 2, notBreaching,
		fmt.Sprintf("API p99 target response time above %g s in 2 of the last 3 five-minute periods.", a.APIP99LatencySeconds))
	alarm("ApiUnhealthyHosts", unhealthy, a.UnhealthyHosts, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 5, 3, notBreaching,
		"API tasks failing the /readyz health check for 3 of the last 5 minutes.")
	alarm("DbCpu", dbCPU, a.RDSCPUPercent, gt, 3, 3, awscloudwatch.TreatMissingData_MISSING,
		fmt.Sprintf("Database CPU above %g%% for 15 minutes.", a.RDSCPUPercent))
	alarm("DbFreeStorage", dbFree, a.RDSFreeStorageGiB*1024*1024*1024, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 1, 1, awscloudwatch.TreatMissingData_MISSING,
		fmt.Sprintf("Database free storage below %g GiB (storage autoscaling may have hit its maximum).", a.RDSFreeStorageGiB))
	// No data means no worker has reported the depth for 15 minutes, which
	// is itself an outage of the job pipeline: treat it as breaching.
	alarm("QueueBacklog", queue, a.QueueBacklog, gt, 3, 3, awscloudwatch.TreatMissingData_BREACHING,
		fmt.Sprintf("More than %g River jobs waiting for 15 minutes, or no worker reported the queue depth: workers are down, stuck or under-scaled.", a.QueueBacklog))

	graph := func(title string, left []awscloudwatch.IMetric, right ...awscloudwatch.IMetric) awscloudwatch.GraphWidget {
		props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6)}
		if len(right) > 0 {
			props.Right = &right
		}
		return awscloudwatch.NewGraphWidget(props)
	}
	opts := func(stat, label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Statistic: jsii.String(stat), Period: one, Label: jsii.String(label)}
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(o.Alarms))
	for _, k := range sortedKeys(o.Alarms) {
		alarms = append(alarms, o.Alarms[k])
	}

	o.Dashboard = awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String("autopulse-" + cfg.Name),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("API target response time (s)", []awscloudwatch.IMetric{p50, p99}),
				graph("API requests / 5xx rate (%)", []awscloudwatch.IMetric{requests}, fiveXXRate),
				awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
					Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(8), Height: jsii.Number(6),
				}),
			},
			{
				graph("ECS CPU (%)", []awscloudwatch.IMetric{
					services.API.MetricCpuUtilization(opts("Average", "api")),
					services.Worker.MetricCpuUtilization(opts("Average", "worker")),
				}),
				graph("ECS memory (%)", []awscloudwatch.IMetric{
					services.API.MetricMemoryUtilization(opts("Average", "api")),
					services.Worker.MetricMemoryUtilization(opts("Average", "worker")),
				}),
				graph("API targets", []awscloudwatch.IMetric{
					tg.HealthyHostCount(opts("Minimum", "healthy")),
					unhealthy,
				}),
			},
			{
				graph("RDS CPU (%)", []awscloudwatch.IMetric{data.Database.MetricCPUUtilization(opts("Average", "cpu"))}),
				graph("RDS connections / free storage (bytes)", []awscloudwatch.IMetric{dbConns}, data.Database.MetricFreeStorageSpace(opts("Minimum", "free storage"))),
				graph("River queue depth ("+QueueDepthNamespace+"/"+QueueDepthMetric+")", []awscloudwatch.IMetric{queue}),
			},
		},
	})
	return o
}
