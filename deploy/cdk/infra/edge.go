package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Path patterns of the distribution's extra behaviors.
const (
	APIPathPattern    = "/api/*"
	StaticPathPattern = "/static/*"
)

// WAFRateLimitPer5Min is the per-client-IP request budget in a 5-minute
// window. It is deliberately high: Vapi, Stripe and Twilio post webhooks
// from a handful of addresses, and a busy campaign sends many of them.
const WAFRateLimitPer5Min = 20000

// Output keys of the edge stack.
const (
	OutputDistributionID  = "DistributionId"
	OutputStaticBucket    = "StaticAssetsBucket"
	OutputDistributionDNS = "DistributionDomainName"
)

// EdgeStack is the public entry point. It always lives in us-east-1,
// because CloudFront only accepts ACM certificates (and WAF web ACLs) from
// there. It references nothing in the regional stacks: CloudFront reaches
// the ALB through the origin DNS name from the config, so no cross-region
// reference (and none of the custom resources those need) exists.
type EdgeStack struct {
	awscdk.Stack
	Distribution awscloudfront.Distribution
	StaticAssets awss3.Bucket
	LogBucket    awss3.Bucket
	Certificate  awscertificatemanager.Certificate
	WebACL       awswafv2.CfnWebACL
}

// NewEdgeStack builds CloudFront (ALB as the default origin, S3 for
// /static/* through Origin Access Control), its certificate, WAF and the
// Route 53 alias records of the API domain.
func NewEdgeStack(scope constructs.Construct, id string, cfg EnvConfig) *EdgeStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:                   &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(EdgeRegion)},
		Description:           jsii.String("AutoPulse " + cfg.Name + " edge: CloudFront, WAF, certificate, DNS (" + EdgeRegion + ")"),
		TerminationProtection: jsii.Bool(cfg.RetainData),
	})
	e := &EdgeStack{Stack: stack}
	retain := removalPolicy(cfg)
	zone := importZone(stack, cfg)

	e.Certificate = awscertificatemanager.NewCertificate(stack, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
		DomainName: jsii.String(cfg.APIDomain),
		Validation: awscertificatemanager.CertificateValidation_FromDns(zone),
	})

	e.LogBucket = awss3.NewBucket(stack, jsii.String("EdgeLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		// CloudFront standard logs are delivered with an ACL grant, so ACLs
		// must stay enabled on this bucket (and only this one).
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-edge-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.AccessLogRetentionDays))),
		}},
		RemovalPolicy: retain,
	})

	e.StaticAssets = awss3.NewBucket(stack, jsii.String("StaticAssets"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: e.LogBucket,
		ServerAccessLogsPrefix: jsii.String("static-bucket/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("expire-replaced-assets"),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
		RemovalPolicy: retain,
	})

	e.WebACL = newWebACL(stack, cfg)

	alb := awscloudfrontorigins.NewHttpOrigin(jsii.String(cfg.OriginDomain), &awscloudfrontorigins.HttpOriginProps{
		ProtocolPolicy:     awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
		OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
		HttpsPort:          jsii.Number(443),
		ReadTimeout:        awscdk.Duration_Seconds(jsii.Number(60)),
		KeepaliveTimeout:   awscdk.Duration_Seconds(jsii.Number(5)),
	})
	// Nothing from the API is cached: every request reaches the ALB with all
	// headers (Host included), cookies and query strings.
	api := &awscloudfront.BehaviorOptions{
		Origin:                alb,
		ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
		AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_ALL(),
		CachePolicy:           awscloudfront.CachePolicy_CACHING_DISABLED(),
		OriginRequestPolicy:   awscloudfront.OriginRequestPolicy_ALL_VIEWER(),
		ResponseHeadersPolicy: awscloudfront.ResponseHeadersPolicy_SECURITY_HEADERS(),
		Compress:              jsii.Bool(true),
	}
	static := &awscloudfront.BehaviorOptions{
		Origin: awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(e.StaticAssets, &awscloudfrontorigins.S3BucketOriginWithOACProps{
			OriginAccessLevels: &[]awscloudfront.AccessLevel{awscloudfront.AccessLevel_READ},
		}),
		ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
		AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
		CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
		ResponseHeadersPolicy: awscloudfront.ResponseHeadersPolicy_SECURITY_HEADERS(),
		Compress:              jsii.Bool(true),
	}

	e.Distribution = awscloudfront.NewDistribution(stack, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment:                jsii.String("AutoPulse " + cfg.Name + " API"),
		DomainNames:            jsii.Strings(cfg.APIDomain),
		Certificate:            e.Certificate,
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
		HttpVersion:            awscloudfront.HttpVersion_HTTP2_AND_3,
		EnableIpv6:             jsii.Bool(true),
		PriceClass:             awscloudfront.PriceClass_PRICE_CLASS_100,
		DefaultBehavior:        api,
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			APIPathPattern:    api,
			StaticPathPattern: static,
		},
		EnableLogging: jsii.Bool(true),
		LogBucket:     e.LogBucket,
		LogFilePrefix: jsii.String("cloudfront/"),
		WebAclId:      e.WebACL.AttrArn(),
	})
	suppress(e.Distribution, nag("AwsSolutions-CFR1",
		"No geo restriction: Vapi, Stripe and Twilio deliver webhooks from their own (not only US) infrastructure and dealership staff travel; abuse is handled by the WAF rules instead."))

	target := awsroute53.RecordTarget_FromAlias(awsroute53targets.NewCloudFrontTarget(e.Distribution))
	awsroute53.NewARecord(stack, jsii.String("ApiAliasA"), &awsroute53.ARecordProps{
		Zone: zone, RecordName: jsii.String(cfg.APIDomain), Target: target,
		Comment: jsii.String("AutoPulse " + cfg.Name + " API -> CloudFront"),
	})
	awsroute53.NewAaaaRecord(stack, jsii.String("ApiAliasAAAA"), &awsroute53.AaaaRecordProps{
		Zone: zone, RecordName: jsii.String(cfg.APIDomain), Target: target,
		Comment: jsii.String("AutoPulse " + cfg.Name + " API -> CloudFront (IPv6)"),
	})

	awscdk.NewCfnOutput(stack, jsii.String(OutputDistributionID), &awscdk.CfnOutputProps{
		Value: e.Distribution.DistributionId(), Description: jsii.String("CloudFront distribution (cache invalidations of /static/*)"),
	})
	awscdk.NewCfnOutput(stack, jsii.String(OutputDistributionDNS), &awscdk.CfnOutputProps{
		Value: e.Distribution.DistributionDomainName(), Description: jsii.String("CloudFront domain behind " + cfg.APIDomain),
	})
	awscdk.NewCfnOutput(stack, jsii.String(OutputStaticBucket), &awscdk.CfnOutputProps{
		Value: e.StaticAssets.BucketName(), Description: jsii.String("bucket served under /static/* (object keys start with static/)"),
	})
	return e
}

// newWebACL is the CloudFront web ACL: AWS managed rule groups for common
// exploits, known bad inputs and IP reputation, plus a per-IP rate limit.
func newWebACL(scope constructs.Construct, cfg EnvConfig) awswafv2.CfnWebACL {
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String("autopulse-" + cfg.Name + "-" + name),
			SampledRequestsEnabled:   jsii.Bool(true),
		}
	}
	managed := func(priority float64, name string, count ...string) *awswafv2.CfnWebACL_RuleProperty {
		stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(name)}
		if len(count) > 0 {
			overrides := make([]*awswafv2.CfnWebACL_RuleActionOverrideProperty, 0, len(count))
			for _, rule := range count {
				overrides = append(overrides, &awswafv2.CfnWebACL_RuleActionOverrideProperty{
					Name:        jsii.String(rule),
					ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: &awswafv2.CfnWebACL_CountActionProperty{}},
				})
			}
			stmt.RuleActionOverrides = overrides
		}
		return &awswafv2.CfnWebACL_RuleProperty{
			Name:             jsii.String(name),
			Priority:         jsii.Number(priority),
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: visibility(name),
		}
	}
	return awswafv2.NewCfnWebACL(scope, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:          jsii.String("autopulse-" + cfg.Name),
		Description:   jsii.String("AutoPulse " + cfg.Name + " CloudFront protection"),
		Scope:         jsii.String("CLOUDFRONT"),
		DefaultAction: &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		Rules: []any{
			&awswafv2.CfnWebACL_RuleProperty{
				Name:     jsii.String("RateLimitPerIp"),
				Priority: jsii.Number(0),
				Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}},
				Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
					Limit:            jsii.Number(WAFRateLimitPer5Min),
					AggregateKeyType: jsii.String("IP"),
				}},
				VisibilityConfig: visibility("rate-limit"),
			},
			managed(1, "AWSManagedRulesAmazonIpReputationList"),
			// Webhook bodies (end-of-call reports with whole transcripts)
			// and CSV imports are large and carry URLs and free text: the
			// body-inspecting rules only count; the app validates bodies.
			managed(2, "AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY", "GenericRFI_BODY", "CrossSiteScripting_BODY"),
			managed(3, "AWSManagedRulesKnownBadInputsRuleSet"),
		},
		VisibilityConfig: visibility("web-acl"),
	})
}
