# Ingest on arrival, and no job task that fails unseen (docs/runbook.md
# "Alarms: what each one means and what to do").
#
# 1. S3 → EventBridge → `catalog-api run-object s3://bucket/key`: the raw
#    bucket sends its events to EventBridge; a rule takes "Object Created"
#    under var.s3_event_prefixes (partners' drop folders) and starts a one-off
#    Fargate task of the job family (latest ACTIVE revision, like the
#    schedules), the bucket and key passed by an input transformer. Uploads
#    through POST /feeds (raw/partners/<source>/feeds/) are not matched: the
#    API queues their run itself.
# 2. Dead-letter queue: RunTask calls that EventBridge (this rule) or the
#    Scheduler (scheduler.tf) could not make after their retries land in one
#    SQS queue; its depth is alarmed.
# 3. ECS "Task State Change": a job-family task that stops with a non-zero
#    exit code (a failed run, a crash at start-up, the OOM killer's 137) or
#    never starts (TaskFailedToStart: bad image, no capacity, IAM) → SNS, with
#    the stop reason in the message.
# 4. A deep probe from outside: a Route 53 health check asks GET /health
#    through the ALB (database included) every 30 s; its alarm lives in
#    us-east-1, where Route 53 publishes health-check metrics.

resource "aws_s3_bucket_notification" "raw" {
  bucket      = aws_s3_bucket.raw.id
  eventbridge = true
}

# --- dead-letter queue for RunTask calls that never happened -----------------------
resource "aws_sqs_queue" "job_dlq" {
  name                      = "${local.name}-job-dlq"
  message_retention_seconds = 1209600 # 14 days: time to look, then replay by hand
  sqs_managed_sse_enabled   = true
}

data "aws_iam_policy_document" "job_dlq" {
  statement {
    sid       = "EventBridgeRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.job_dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_created.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "job_dlq" {
  queue_url = aws_sqs_queue.job_dlq.id
  policy    = data.aws_iam_policy_document.job_dlq.json
}

resource "aws_cloudwatch_metric_alarm" "job_dlq_depth" {
  alarm_name          = "${local.name}-job-dlq-depth"
  alarm_description   = "A scheduled or S3-triggered job task could not be started (RunTask failed after retries): the message in ${aws_sqs_queue.job_dlq.name} says which and why."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.job_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- S3 Object Created → run-object ------------------------------------------------
resource "aws_cloudwatch_event_rule" "object_created" {
  name        = "${local.name}-object-created"
  description = "A partner file landed in the raw bucket: run the jobs that take it"
  state       = var.s3_events_enabled ? "ENABLED" : "DISABLED"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.raw.id] }
      object = { key = [for p in var.s3_event_prefixes : { prefix = p }] }
    }
  })
}

resource "aws_cloudwatch_event_target" "run_object" {
  rule     = aws_cloudwatch_event_rule.object_created.name
  arn      = aws_ecs_cluster.main.arn
  role_arn = aws_iam_role.events.arn

  ecs_target {
    # Without a revision: the latest ACTIVE one, i.e. the image CI deployed.
    task_definition_arn = aws_ecs_task_definition.job.arn_without_revision
    launch_type         = "FARGATE"
    platform_version    = "LATEST"
    task_count          = 1
    group               = "run-object"
    propagate_tags      = "TASK_DEFINITION"

    network_configuration {
      subnets          = aws_subnet.private[*].id
      security_groups  = [aws_security_group.service.id]
      assign_public_ip = false
    }
  }

  input_transformer {
    input_paths = {
      bucket = "$.detail.bucket.name"
      key    = "$.detail.object.key"
    }
    input_template = <<-EOT
      {"containerOverrides": [{"name": "${local.job_container_name}", "command": ["run-object", "s3://<bucket>/<key>"]}]}
    EOT
  }

  retry_policy {
    maximum_retry_attempts       = 3
    maximum_event_age_in_seconds = 3600
  }

  dead_letter_config {
    arn = aws_sqs_queue.job_dlq.arn
  }
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${local.name}-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

# The same three permissions as the scheduler's role (iam.tf): run the job
# family in this cluster, tag the task, pass its two roles.
data "aws_iam_policy_document" "events" {
  statement {
    sid       = "RunJobTasks"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-definition/${aws_ecs_task_definition.job.family}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.main.arn]
    }
  }

  statement {
    sid       = "TagRunJobTasks"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${aws_ecs_cluster.main.name}/*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "run-object"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

# --- job tasks that stop badly → SNS -----------------------------------------------
resource "aws_cloudwatch_event_rule" "job_task_failed" {
  name        = "${local.name}-job-task-failed"
  description = "A job-family task (run-job, run-object, migrate) stopped with a non-zero exit code or never started"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn        = [aws_ecs_cluster.main.arn]
      lastStatus        = ["STOPPED"]
      taskDefinitionArn = [{ prefix = "${aws_ecs_task_definition.job.arn_without_revision}:" }]
      "$or" = [
        { stopCode = ["TaskFailedToStart"] },
        { containers = { exitCode = [{ "anything-but" = 0 }] } },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "job_task_failed" {
  rule = aws_cloudwatch_event_rule.job_task_failed.name
  arn  = aws_sns_topic.alarms.arn

  input_transformer {
    input_paths = {
      task      = "$.detail.taskArn"
      group     = "$.detail.group"
      stop_code = "$.detail.stopCode"
      stopped   = "$.detail.stoppedReason"
      exit_code = "$.detail.containers[0].exitCode"
      reason    = "$.detail.containers[0].reason"
    }
    input_template = "\"catalog-api ${var.environment}: job task <task> (<group>) stopped: <stop_code>, exit code <exit_code>. Reason: <stopped> <reason>. Runbook: Alarms, job task failed.\""
  }
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "JobTaskFailedRule"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.job_task_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

# --- deep probe of GET /health from outside ----------------------------------------
# Route 53 health checkers do not validate the certificate, so the ALB's own
# DNS name works with HTTPS; var.health_check_fqdn names your domain instead.
resource "aws_route53_health_check" "deep" {
  fqdn              = var.health_check_fqdn != "" ? var.health_check_fqdn : aws_lb.main.dns_name
  type              = var.certificate_arn != "" ? "HTTPS" : "HTTP"
  port              = var.certificate_arn != "" ? 443 : 80
  resource_path     = "/health"
  enable_sni        = var.certificate_arn != ""
  failure_threshold = 3
  request_interval  = 30

  tags = { Name = "${local.name}-deep-health" }
}

# Route 53 publishes HealthCheckStatus in us-east-1 only: the alarm, and the
# topic it notifies, live there.
resource "aws_sns_topic" "alarms_us_east_1" {
  provider = aws.us_east_1
  name     = "${local.name}-alarms-health"
}

resource "aws_sns_topic_subscription" "alarm_email_us_east_1" {
  provider = aws.us_east_1
  count    = var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms_us_east_1.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "deep_health" {
  provider = aws.us_east_1

  alarm_name          = "${local.name}-deep-health"
  alarm_description   = "GET /health through the ALB fails from outside AWS's network for 3 minutes: the database is unreachable from the tasks (password, security group, RDS down) or no task serves."
  namespace           = "AWS/Route53"
  metric_name         = "HealthCheckStatus"
  dimensions          = { HealthCheckId = aws_route53_health_check.deep.id }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms_us_east_1.arn]
  ok_actions          = [aws_sns_topic.alarms_us_east_1.arn]
}
