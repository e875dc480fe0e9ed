# Application Load Balancer in the public subnets -> target group of the
# Fargate tasks' IPs on port 8000, health-checked on GET /health/live.
#
# The target group checks the SHALLOW endpoint (200 while the process serves
# HTTP, no database): with the deep /health, an RDS failover or maintenance
# window would turn every target unhealthy at once, ECS would replace every
# task (cancelling running ETL) and the circuit breaker could roll back a good
# release. Database trouble is watched by alarms instead (monitoring.tf).

resource "aws_lb" "main" {
  name               = substr(local.name, 0, 32)
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id

  idle_timeout               = var.alb_idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection

  tags = { Name = local.name }
}

resource "aws_lb_target_group" "api" {
  name        = substr("${local.name}-api", 0, 32)
  port        = local.container_port
  protocol    = "HTTP"
  target_type = "ip" # awsvpc: Fargate registers task ENI IPs
  vpc_id      = aws_vpc.main.id

  # After ECS deregisters a task (deploy, scale-in), the ALB stops sending it
  # new requests and waits this long for in-flight ones; only then does ECS
  # send SIGTERM. Longer than WAIT_TIMEOUT, so a ?wait=true request (the
  # longest any request is held) ends with its answer, not a cut connection.
  deregistration_delay = local.wait_timeout_seconds + 10

  health_check {
    enabled             = true
    path                = "/health/live"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = "${local.name}-api" }
}

# Port 80: redirect to HTTPS when there is a certificate (the default way to
# run this), otherwise forward in clear text (see plain_http_allowed_cidrs and
# the `warning` output).
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https_enabled ? "redirect" : "forward"
    target_group_arn = local.https_enabled ? null : aws_lb_target_group.api.arn

    dynamic "redirect" {
      for_each = local.https_enabled ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https_enabled ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}

# Plan and apply print this as a warning (a failed `check` never blocks) when
# there is no certificate; the `warning` output repeats it.
check "https" {
  assert {
    condition     = local.https_enabled
    error_message = "certificate_arn is empty: the API is served over PLAIN HTTP and API tokens cross the network in clear text. Port 80 is open only to plain_http_allowed_cidrs. Set certificate_arn to serve HTTPS."
  }
}
