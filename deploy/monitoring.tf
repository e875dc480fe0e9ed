# Alarms, the metrics behind them, and the dashboard an operator opens first.
#
# How the service's own numbers reach CloudWatch: METRIC FILTERS ON THE JSON
# LOGS, not a scraper of /metrics. Every request already logs one JSON line
# ({"msg":"request","status":...,"latency_ms":...}) and every ETL run one
# {"msg":"run finished","status":...,"inserted":...} line (src/http/router.cpp,
# src/etl/job_runner.cpp), into this log group, from the service AND from the
# scheduled run-job tasks. Scheduled runs happen in short-lived tasks that
# serve no HTTP and exit when done, so a Prometheus-style scrape of /metrics
# (an ADOT collector sidecar) would never see them, and it would add a second
# container per task, its CPU/memory, an SSM config and an Amazon Managed
# Prometheus workspace or EMF exporter to pay for and operate. Request rate and
# latency come from the ALB's own metrics, which also count what never reached
# a task. /metrics stays available inside the VPC for anyone who runs a
# Prometheus there.

locals {
  metrics_namespace = "CatalogApi/${var.environment}"
  alarm_actions     = [aws_sns_topic.alarms.arn]

  alb_dimensions = { LoadBalancer = aws_lb.main.arn_suffix }
  tg_dimensions  = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.api.arn_suffix }
  db_dimensions  = { DBInstanceIdentifier = aws_db_instance.main.identifier }
}

# --- where alarms go --------------------------------------------------------------
resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- metrics from the service's JSON logs -----------------------------------------
# {"module":"etl","msg":"run finished","status":"succeeded|failed|skipped|cancelled",...}
resource "aws_cloudwatch_log_metric_filter" "runs_finished" {
  name           = "${local.name}-runs-finished"
  log_group_name = aws_cloudwatch_log_group.api.name
  pattern        = "{ $.msg = \"run finished\" }"

  metric_transformation {
    name       = "RunsFinished"
    namespace  = local.metrics_namespace
    value      = "1"
    dimensions = { status = "$.status" }
    unit       = "Count"
  }
}

# Rows a run wrote, one metric per kind of write (a filter has one value).
resource "aws_cloudwatch_log_metric_filter" "rows_written" {
  for_each = { RowsInserted = "$.inserted", RowsUpdated = "$.updated", RowsDeleted = "$.deleted" }

  name           = "${local.name}-${lower(each.key)}"
  log_group_name = aws_cloudwatch_log_group.api.name
  pattern        = "{ $.msg = \"run finished\" }"

  metric_transformation {
    name      = each.key
    namespace = local.metrics_namespace
    value     = each.value
    unit      = "Count"
  }
}

# 503 answers: the API's "database_unavailable" (or a task draining). With the
# shallow load-balancer health check this, with the RDS alarms below, is how
# database trouble shows up.
resource "aws_cloudwatch_log_metric_filter" "http_503" {
  name           = "${local.name}-http-503"
  log_group_name = aws_cloudwatch_log_group.api.name
  pattern        = "{ $.msg = \"request\" && $.status = 503 }"

  metric_transformation {
    name          = "Http503Responses"
    namespace     = local.metrics_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

# --- alarms: load balancer --------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${local.name}-alb-5xx"
  alarm_description   = "The load balancer itself answers 5xx (no healthy target, target reset the connection, timeout)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = local.alb_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.alarm_5xx_per_minute
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${local.name}-target-5xx"
  alarm_description   = "catalog-api answers 5xx (503 database_unavailable, 500 internal errors: see the logs' level=error lines)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = local.tg_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.alarm_5xx_per_minute
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${local.name}-unhealthy-hosts"
  alarm_description   = "A target fails the /health/live check for 3 minutes: the process is not serving HTTP (ECS replaces it)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${local.name}-latency-p99"
  alarm_description   = "p99 target response time above ${var.alarm_latency_p99_seconds} s in 3 of 5 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.tg_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.alarm_latency_p99_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "database_unavailable" {
  alarm_name          = "${local.name}-http-503"
  alarm_description   = "catalog-api answers 503 (database unavailable or unreachable) more than 5 times a minute, 2 minutes in a row."
  namespace           = local.metrics_namespace
  metric_name         = "Http503Responses"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 5
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- alarms: database --------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${local.name}-db-cpu"
  alarm_description   = "RDS CPU above ${var.alarm_db_cpu_percent}% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = local.db_dimensions
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_db_cpu_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching" # no data from RDS is itself a problem
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${local.name}-db-free-storage"
  alarm_description   = "RDS free storage below ${var.alarm_db_free_storage_gib} GiB."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = local.db_dimensions
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_db_free_storage_gib * 1024 * 1024 * 1024
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${local.name}-db-connections"
  alarm_description   = "RDS connections above ${var.alarm_db_connections}: lower DB_POOL_SIZE or max_capacity, or scale RDS."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = local.db_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.alarm_db_connections
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "db_replica_lag" {
  count = var.db_read_replica ? 1 : 0

  alarm_name          = "${local.name}-db-replica-lag"
  alarm_description   = "Read replica lags more than READ_MAX_LAG (${var.read_max_lag_seconds} s) for 5 minutes: list routes are back on the primary."
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.read[0].identifier }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.read_max_lag_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- alarms: ETL --------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "etl_failed_runs" {
  alarm_name          = "${local.name}-etl-failed-runs"
  alarm_description   = "An ETL run finished with status failed (API-triggered or scheduled). GET /runs/<run_id> (run_id is in the log line) says why."
  namespace           = local.metrics_namespace
  metric_name         = "RunsFinished"
  dimensions          = { status = "failed" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- dashboard ------------------------------------------------------------------------
resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.name

  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 8, height = 6
        properties = {
          title   = "Requests per minute (ALB)"
          region  = var.aws_region
          view    = "timeSeries"
          stat    = "Sum"
          period  = 60
          metrics = [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", aws_lb.main.arn_suffix]]
        }
      },
      {
        type = "metric", x = 8, y = 0, width = 8, height = 6
        properties = {
          title  = "Latency p50 / p99 (s)"
          region = var.aws_region
          view   = "timeSeries"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", aws_lb.main.arn_suffix, "TargetGroup", aws_lb_target_group.api.arn_suffix, { stat = "p50", label = "p50" }],
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", aws_lb.main.arn_suffix, "TargetGroup", aws_lb_target_group.api.arn_suffix, { stat = "p99", label = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 16, y = 0, width = 8, height = 6
        properties = {
          title  = "5xx per minute"
          region = var.aws_region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", aws_lb.main.arn_suffix, "TargetGroup", aws_lb_target_group.api.arn_suffix, { label = "from catalog-api" }],
            ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", aws_lb.main.arn_suffix, { label = "from the ALB" }],
            [local.metrics_namespace, "Http503Responses", { label = "503 (database unavailable)" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 8, height = 6
        properties = {
          title  = "Healthy / unhealthy tasks (/health/live)"
          region = var.aws_region
          view   = "timeSeries"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", aws_lb.main.arn_suffix, "TargetGroup", aws_lb_target_group.api.arn_suffix, { stat = "Minimum", label = "healthy" }],
            ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", aws_lb.main.arn_suffix, "TargetGroup", aws_lb_target_group.api.arn_suffix, { stat = "Maximum", label = "unhealthy" }],
          ]
        }
      },
      {
        type = "metric", x = 8, y = 6, width = 8, height = 6
        properties = {
          title  = "ETL runs by status (per hour)"
          region = var.aws_region
          view   = "timeSeries"
          stat   = "Sum"
          period = 3600
          metrics = [
            for s in ["succeeded", "failed", "skipped", "cancelled"] :
            [local.metrics_namespace, "RunsFinished", "status", s, { label = s }]
          ]
        }
      },
      {
        type = "metric", x = 16, y = 6, width = 8, height = 6
        properties = {
          title  = "Rows written per run (inserted + updated + deleted)"
          region = var.aws_region
          view   = "timeSeries"
          period = 3600
          metrics = [
            [{ expression = "(ins + upd + del) / runs", label = "rows written per run", id = "per_run" }],
            [local.metrics_namespace, "RowsInserted", { id = "ins", stat = "Sum", visible = false }],
            [local.metrics_namespace, "RowsUpdated", { id = "upd", stat = "Sum", visible = false }],
            [local.metrics_namespace, "RowsDeleted", { id = "del", stat = "Sum", visible = false }],
            [{ expression = "SUM(SEARCH('{${local.metrics_namespace},status} MetricName=\"RunsFinished\"', 'Sum', 3600))", id = "runs", visible = false }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "Database connections"
          region = var.aws_region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", aws_db_instance.main.identifier],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.alarm_db_connections }] }
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Database CPU %"
          region = var.aws_region
          view   = "timeSeries"
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", aws_db_instance.main.identifier],
          ]
          annotations = { horizontal = [{ label = "alarm", value = var.alarm_db_cpu_percent }] }
        }
      },
      {
        type = "alarm", x = 0, y = 18, width = 24, height = 4
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.alb_5xx.arn,
            aws_cloudwatch_metric_alarm.target_5xx.arn,
            aws_cloudwatch_metric_alarm.unhealthy_hosts.arn,
            aws_cloudwatch_metric_alarm.latency_p99.arn,
            aws_cloudwatch_metric_alarm.database_unavailable.arn,
            aws_cloudwatch_metric_alarm.db_cpu.arn,
            aws_cloudwatch_metric_alarm.db_free_storage.arn,
            aws_cloudwatch_metric_alarm.db_connections.arn,
            aws_cloudwatch_metric_alarm.etl_failed_runs.arn,
          ]
        }
      },
    ]
  })
}
