# IAM roles:
#   execution  - used by the ECS agent: pull the image, write logs, read the two
#                secrets it injects. Nothing else.
#   task       - the application's AWS identity (credentials from the ECS
#                endpoint, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI): the raw
#                bucket only.
#   scheduler  - EventBridge Scheduler: start run-job tasks of the job task
#                definition family on this cluster, pass the two roles above.
#   github deploy role: see github.tf.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# --- execution role ------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # this action has no resource-level scoping
  }

  statement {
    sid = "EcrPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
    ]
    resources = [aws_ecr_repository.api.arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.api.arn}:*"]
  }

  statement {
    sid       = "DbSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([aws_secretsmanager_secret.db.arn], aws_secretsmanager_secret.db_read[*].arn)
  }

  statement {
    sid       = "NotifySecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.notify.arn]
  }

  statement {
    sid       = "ApiToken"
    actions   = ["ssm:GetParameters"]
    resources = [aws_ssm_parameter.api_token.arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- task role (the application) -----------------------------------------------------
data "aws_iam_policy_document" "task_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    # Confused-deputy guard: only ECS tasks of this account may assume it.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.task_assume.json
}

data "aws_iam_policy_document" "task" {
  # ListObjectsV2: jobs whose uri is a prefix (s3://bucket/prefix/) pick the
  # newest object under it. Without ListBucket, S3 also answers 403 instead of
  # 404 for a missing key, which hides the real problem.
  statement {
    sid       = "ListRawBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.raw.arn]
  }

  # Read any feed in the raw bucket (HeadObject and ranged GETs are GetObject).
  statement {
    sid       = "ReadRawFeeds"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.raw.arn}/*"]
  }

  # The one write: POST /feeds streams an uploaded CSV to
  # s3://<bucket>/raw/partners/<source>/feeds/<feed_id>/<file name> (docs/feeds.md).
  # Scoped to that prefix so the API can never overwrite or delete anything
  # else. PutObject also authorises the multipart calls (Create/UploadPart/
  # Complete); AbortMultipartUpload lets a failed or cancelled upload clean up.
  # Drop this statement if uploads through the API are not wanted: the rest
  # of the service works with read-only access.
  statement {
    sid       = "UploadFeeds"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.raw.arn}/raw/partners/*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "raw-bucket"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- EventBridge Scheduler role ------------------------------------------------------
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
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

  # RunTask with managed/propagated tags tags the new task.
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

# EventBridge Scheduler sends dead letters with the schedule's role.
data "aws_iam_policy_document" "scheduler_dlq" {
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.job_dlq.arn]
  }
}

resource "aws_iam_role_policy" "scheduler_dlq" {
  name   = "dead-letters"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler_dlq.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-job"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
