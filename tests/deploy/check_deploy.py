#!/usr/bin/env python3
"""Asserts the properties of deploy/ and .github/workflows/ that matter in
production, on the parse that tests/deploy/parse.cjs produced (HashiCorp's HCL
parser; YAML), plus botocore's ECS service model for deploy/task-definition.json.

usage: check_deploy.py PARSED.json REPO_ROOT

Every assertion prints `ok   <name>` or `FAIL <name>: <what is wrong>`; the
last line is `deploy checks: N passed, M failed`; exit status 1 if any failed.
Terraform is not run (no providers can be downloaded here): these are static
checks of the configuration, not a plan.
"""
import json
import os
import re
import sys
import traceback

# ----------------------------------------------------------------------------- setup
if len(sys.argv) != 3:
    sys.exit("usage: check_deploy.py PARSED.json REPO_ROOT")
PARSED = json.load(open(sys.argv[1]))
ROOT = sys.argv[2]
TF = PARSED["tf"]
WORKFLOWS = PARSED["workflows"]

SERVER_PORT = 8000
LIVENESS_PATH = "/health/live"
HEALTHCHECK_COMMAND = ["CMD", "/usr/local/bin/catalog-api", "healthcheck"]
# An environment variable whose name looks like this must come from `secrets`.
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|PRIVATE|CREDENTIAL|ACCESS_KEY|API_KEY|DATABASE(_READ)?_URL", re.I)

passed = 0
failed = []


def check(name):
    """Decorator: run the function now; an AssertionError/KeyError is a failure."""
    def run(fn):
        global passed
        try:
            fn()
        except AssertionError as e:
            failed.append(name)
            print(f"FAIL {name}: {e}")
        except (KeyError, IndexError, TypeError) as e:
            failed.append(name)
            print(f"FAIL {name}: missing or malformed: {e!r}")
            traceback.print_exc(limit=2, file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {name}")
        return fn
    return run


# ------------------------------------------------------------------- the parsed tree
def merged(kind):
    """kind = resource/data: {type: {name: body}}; variable/output/module: {name: body}."""
    out = {}
    for f, doc in TF.items():
        for key, val in doc.get(kind, {}).items():
            if kind in ("resource", "data"):
                for name, bodies in val.items():
                    assert name not in out.get(key, {}), f"{kind} {key}.{name} defined twice"
                    out.setdefault(key, {})[name] = dict(bodies[0], __file__=f)
            else:
                assert key not in out, f"{kind} {key} defined twice"
                out[key] = dict(val[0], __file__=f)
    return out


RES = merged("resource")
DATA = merged("data")
VARS = merged("variable")
OUTPUTS = merged("output")
MODULES = merged("module")
LOCALS = {}
for _f, _doc in TF.items():
    for block in _doc.get("locals", []):
        for k, v in block.items():
            LOCALS[k] = v


def res(type_, name):
    assert type_ in RES and name in RES[type_], f"resource {type_}.{name} is not defined"
    return RES[type_][name]


def one(block_list):
    assert isinstance(block_list, list) and len(block_list) == 1, f"expected one block, got {block_list!r}"
    return block_list[0]


def squash(s):
    """Expression text with runs of whitespace collapsed, for substring checks."""
    return " ".join(str(s).split())


def ref(s):
    """'${local.x}' -> 'local.x' for a bare reference."""
    m = re.fullmatch(r"\$\{([^{}]+)\}", s) if isinstance(s, str) else None
    return m.group(1) if m else None


def policy_statements(data_name):
    doc = DATA["aws_iam_policy_document"][data_name]
    return doc["statement"]


def actions_by_sid(data_name):
    out = {}
    for st in policy_statements(data_name):
        assert st.get("effect", "Allow") == "Allow", f"{data_name}: unexpected effect in {st}"
        sid = st.get("sid")
        assert sid, f"{data_name}: statement without sid: {st}"
        out[sid] = sorted(st["actions"])
    return out


# ============================================================== 1. references resolve
SKIP_ROOTS = {"each", "count", "self", "path", "terraform"}


def dynamic_iterators():
    names = set()

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "dynamic" and isinstance(v, dict):
                    names.update(v.keys())
                    for blocks in v.values():
                        for b in blocks:
                            if "iterator" in b:
                                names.add(b["iterator"])
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(TF)
    return names


PROVIDER_ALIASES = {}
for _f, _doc in TF.items():
    for _name, _bodies in _doc.get("provider", {}).items():
        for _body in _bodies:
            if "alias" in _body:
                PROVIDER_ALIASES.setdefault(_name, set()).add(_body["alias"])


@check("every var./local./data./module./resource reference resolves to a definition")
def _():
    iterators = dynamic_iterators()
    bad = []
    for r in PARSED["refs"]:
        p, value = r["path"], r["ref"]
        # type constraints (string, number, ...) and ignore_changes attribute names are not references
        if p[0] == "variable" and len(p) >= 4 and p[3] in ("type",):
            continue
        if "ignore_changes" in p:
            continue
        # provider = aws.<alias>: an aliased provider block must exist
        if p[-1] == "provider":
            ok = value.split(".")[0] in PROVIDER_ALIASES and value.split(".")[1] in PROVIDER_ALIASES[value.split(".")[0]]
            if not ok:
                bad.append(f"{r['file']}: {'.'.join(p)}: {value} (no provider block with that alias)")
            continue
        parts = value.split(".")
        root = parts[0]
        if root in SKIP_ROOTS or root in iterators:
            continue
        if root == "var":
            ok = parts[1] in VARS
        elif root == "local":
            ok = parts[1] in LOCALS
        elif root == "data":
            ok = len(parts) >= 3 and parts[2] in DATA.get(parts[1], {})
        elif root == "module":
            ok = parts[1] in MODULES
        elif re.fullmatch(r"(aws|random)_[a-z0-9_]+", root):
            ok = len(parts) >= 2 and parts[1] in RES.get(root, {})
        else:
            ok = False
        if not ok:
            bad.append(f"{r['file']}: {'.'.join(p)}: {value}")
    assert not bad, "unresolved references:\n    " + "\n    ".join(bad)


@check("every declared variable is used")
def _():
    used = {r["ref"].split(".")[1] for r in PARSED["refs"] if r["ref"].startswith("var.")}
    unused = sorted(set(VARS) - used)
    assert not unused, f"variables never referenced: {unused}"


# ============================================================ 2. health checks, ports
@check("container port is 8000 everywhere (local, target group, port mapping, PORT env)")
def _():
    assert LOCALS["container_port"] == SERVER_PORT, f"local.container_port = {LOCALS['container_port']}"
    tg = res("aws_lb_target_group", "api")
    assert ref(tg["port"]) == "local.container_port", f"target group port = {tg['port']}"
    pm = one(LOCALS["api_container"]["portMappings"])
    assert ref(pm["containerPort"]) == "local.container_port" and ref(pm["hostPort"]) == "local.container_port", pm
    assert LOCALS["base_environment"]["PORT"] == "${tostring(local.container_port)}", LOCALS["base_environment"]["PORT"]
    for rule in ("alb_to_service", "service_from_alb"):
        kind = "aws_vpc_security_group_egress_rule" if rule == "alb_to_service" else "aws_vpc_security_group_ingress_rule"
        r = res(kind, rule)
        assert ref(r["from_port"]) == ref(r["to_port"]) == "local.container_port", f"{rule}: {r['from_port']}-{r['to_port']}"


@check("ALB target group health check: GET /health/live on the traffic port, 200")
def _():
    hc = one(res("aws_lb_target_group", "api")["health_check"])
    assert hc["path"] == LIVENESS_PATH, f"path is {hc['path']!r}, want {LIVENESS_PATH!r} (the deep /health fails every target during a DB failover)"
    assert hc["port"] == "traffic-port", f"port is {hc['port']!r}"
    assert hc["protocol"] == "HTTP" and hc["matcher"] == "200", hc


@check("service container health check is `catalog-api healthcheck` (shallow, no --deep)")
def _():
    hc = LOCALS["api_container"]["healthCheck"]
    assert hc["command"] == HEALTHCHECK_COMMAND, f"command is {hc['command']}, want {HEALTHCHECK_COMMAND}"


@check("the image's HEALTHCHECK and EXPOSE agree (shallow healthcheck, port 8000)")
def _():
    text = open(os.path.join(ROOT, "docker", "Dockerfile")).read()
    m = re.search(r"^HEALTHCHECK\b.*?CMD\s+(\[.*?\])", text, re.M | re.S)
    assert m, "no HEALTHCHECK ... CMD [...] in docker/Dockerfile"
    assert json.loads(m.group(1)) == HEALTHCHECK_COMMAND[1:], f"Dockerfile HEALTHCHECK CMD {m.group(1)}"
    assert re.search(rf"^EXPOSE\s+{SERVER_PORT}\b", text, re.M), "Dockerfile does not EXPOSE 8000"


# ======================================================================= 3. database
@check("no RDS instance is publicly accessible; all are encrypted")
def _():
    dbs = RES.get("aws_db_instance", {})
    assert dbs, "no aws_db_instance"
    for name, db in dbs.items():
        assert db.get("publicly_accessible") is False, f"aws_db_instance.{name}: publicly_accessible = {db.get('publicly_accessible')!r}"
        assert db.get("storage_encrypted") is True, f"aws_db_instance.{name}: storage_encrypted = {db.get('storage_encrypted')!r}"
        assert db.get("vpc_security_group_ids") == ["${aws_security_group.db.id}"], f"aws_db_instance.{name}: security groups {db.get('vpc_security_group_ids')}"


@check("database security group admits only the service's security group")
def _():
    rules = [r for r in RES["aws_vpc_security_group_ingress_rule"].values() if r["security_group_id"] == "${aws_security_group.db.id}"]
    assert len(rules) == 1, f"{len(rules)} ingress rules on the DB security group"
    assert rules[0].get("referenced_security_group_id") == "${aws_security_group.service.id}" and "cidr_ipv4" not in rules[0], rules[0]


@check("TLS forced and verified on the database (rds.force_ssl=1; verify-full against the region's RDS CA bundle, primary and replica)")
def _():
    params = {p["name"]: p["value"] for p in res("aws_db_parameter_group", "main")["parameter"]}
    assert params.get("rds.force_ssl") == "1", params
    env = LOCALS["base_environment"]
    assert env["PGSSLMODE"] == "verify-full", env["PGSSLMODE"]
    # The bundle travels as text (the binary writes it for libpq): the image stays the one CI tested.
    assert env.get("DB_SSL_ROOT_CERT_PEM") == "${data.http.rds_ca_bundle.response_body}", env.get("DB_SSL_ROOT_CERT_PEM")
    bundle = DATA["http"]["rds_ca_bundle"]
    assert bundle["url"] == "https://truststore.pki.rds.amazonaws.com/${var.aws_region}/${var.aws_region}-bundle.pem", bundle["url"]
    post = one(one(bundle["lifecycle"])["postcondition"])
    assert "self.status_code == 200" in squash(post["condition"]) and "BEGIN CERTIFICATE" in post["condition"], post
    providers = one(one(TF["main.tf"]["terraform"])["required_providers"])
    assert providers.get("http", {}).get("source") == "hashicorp/http", providers
    # DATABASE_READ_URL names its own sslmode: a weaker one there would win over PGSSLMODE.
    url = res("aws_secretsmanager_secret_version", "db_read")["secret_string"]
    assert "sslmode=verify-full" in url and "sslmode=require" not in url, url


# ========================================================================== 4. bucket
@check("raw bucket: encrypted, public access blocked, ACLs disabled")
def _():
    enc = res("aws_s3_bucket_server_side_encryption_configuration", "raw")
    algo = one(one(enc["rule"])["apply_server_side_encryption_by_default"])["sse_algorithm"]
    assert algo in ("AES256", "aws:kms"), f"sse_algorithm {algo}"
    pab = res("aws_s3_bucket_public_access_block", "raw")
    for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab.get(k) is True, f"{k} = {pab.get(k)!r}"
    own = one(res("aws_s3_bucket_ownership_controls", "raw")["rule"])
    assert own["object_ownership"] == "BucketOwnerEnforced", own


@check("raw bucket policy grants nothing; its one statement denies non-TLS access")
def _():
    pol = res("aws_s3_bucket_policy", "raw")
    assert pol["policy"] == "${data.aws_iam_policy_document.raw_bucket.json}", pol["policy"]
    sts = policy_statements("raw_bucket")
    assert len(sts) == 1, f"{len(sts)} statements"
    st = sts[0]
    assert st["effect"] == "Deny" and st["actions"] == ["s3:*"], st
    cond = one(st["condition"])
    assert (cond["test"], cond["variable"], cond["values"]) == ("Bool", "aws:SecureTransport", ["false"]), cond


# ============================================================= 5. IAM least privilege
TASK_ROLE = {
    "ListRawBucket": (["s3:ListBucket"], ["${aws_s3_bucket.raw.arn}"]),
    "ReadRawFeeds": (["s3:GetObject"], ["${aws_s3_bucket.raw.arn}/*"]),
    "UploadFeeds": (["s3:AbortMultipartUpload", "s3:PutObject"], ["${aws_s3_bucket.raw.arn}/raw/partners/*"]),
}
EXECUTION_ROLE = {
    "EcrAuth": ["ecr:GetAuthorizationToken"],
    "EcrPull": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    "Logs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    "DbSecret": ["secretsmanager:GetSecretValue"],
    "ApiToken": ["ssm:GetParameters"],
    "NotifySecret": ["secretsmanager:GetSecretValue"],
}
SCHEDULER_ROLE = {
    "RunJobTasks": ["ecs:RunTask"],
    "TagRunJobTasks": ["ecs:TagResource"],
    "PassTaskRoles": ["iam:PassRole"],
}
GITHUB_ROLE = {
    "EcrAuth": ["ecr:GetAuthorizationToken"],
    "EcrPush": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
                "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"],
    "TaskDefinitions": ["ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
    "TagOnRegisterAndRun": ["ecs:TagResource"],
    "RunMigrateTask": ["ecs:RunTask"],
    "WatchTasks": ["ecs:DescribeTasks", "ecs:StopTask"],
    "DeployService": ["ecs:DescribeServices", "ecs:UpdateService"],
    "ReadMigrateLog": ["logs:GetLogEvents"],
    "PassTaskRoles": ["iam:PassRole"],
}
# The only actions allowed on Resource "*" (they have no resource-level permissions).
STAR_OK = {"ecr:GetAuthorizationToken", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}


@check("task role: exactly s3:ListBucket (bucket), s3:GetObject (bucket/*), s3:PutObject + s3:AbortMultipartUpload (raw/partners/*)")
def _():
    assert res("aws_iam_role_policy", "task")["policy"] == "${data.aws_iam_policy_document.task.json}"
    got = {st["sid"]: (sorted(st["actions"]), st["resources"]) for st in policy_statements("task")}
    assert got == TASK_ROLE, f"task role statements are {got}, want {TASK_ROLE}"
    assert not RES.get("aws_iam_role_policy_attachment"), "managed policies attached to a role"


@check("execution role: exactly ECR pull, this log group, the DB secret, the API token parameter and the notify secret")
def _():
    got = actions_by_sid("execution")
    assert got == EXECUTION_ROLE, f"execution role actions are {got}, want {EXECUTION_ROLE}"
    notify = [st for st in policy_statements("execution") if st["sid"] == "NotifySecret"][0]
    assert notify["resources"] == ["${aws_secretsmanager_secret.notify.arn}"], notify["resources"]


@check("scheduler role: exactly ecs:RunTask (job family, this cluster), ecs:TagResource, iam:PassRole")
def _():
    got = actions_by_sid("scheduler")
    assert got == SCHEDULER_ROLE, f"scheduler role actions are {got}"
    run = [s for s in policy_statements("scheduler") if s["sid"] == "RunJobTasks"][0]
    assert "aws_ecs_task_definition.job.family" in run["resources"][0], run["resources"]


@check("GitHub deploy role: exact action list")
def _():
    got = actions_by_sid("github_deploy")
    assert got == GITHUB_ROLE, f"deploy role actions are {got}, want {GITHUB_ROLE}"


@check("GitHub deploy role trust: OIDC web identity, aud=sts.amazonaws.com, sub = this repository's branch only")
def _():
    st = one(DATA["aws_iam_policy_document"]["github_assume"]["statement"])
    assert st["actions"] == ["sts:AssumeRoleWithWebIdentity"], st["actions"]
    assert one(st["principals"])["type"] == "Federated", st["principals"]
    conds = {c["variable"]: (c["test"], c["values"]) for c in st["condition"]}
    assert conds.get("token.actions.githubusercontent.com:aud") == ("StringEquals", ["sts.amazonaws.com"]), conds
    assert conds.get("token.actions.githubusercontent.com:sub") == (
        "StringEquals", ["repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"]), conds
    assert "*" not in json.dumps(conds), f"wildcard in the trust conditions: {conds}"


@check("no IAM statement allows `*` actions; Resource `*` only for actions without resource-level permissions")
def _():
    for name, doc in DATA["aws_iam_policy_document"].items():
        for st in doc["statement"]:
            if st.get("effect", "Allow") != "Allow":
                continue
            for a in st["actions"]:
                assert "*" not in a, f"{name}: wildcard action {a}"
            resources = st.get("resources", [])
            if isinstance(resources, list) and "*" in resources:
                extra = set(st["actions"]) - STAR_OK
                assert not extra, f"{name}/{st.get('sid')}: {sorted(extra)} on Resource *"


# =========================================================================== 6. secrets
def env_names_in(expr):
    return re.findall(r"\b([A-Z][A-Z0-9_]{2,})\s*=", expr)


@check("secrets only through secrets/valueFrom: no secret-looking name in any container environment")
def _():
    for c in ("api_container", "job_container"):
        cont = LOCALS[c]
        assert cont["environment"] == "${local.container_environment_list}", f"{c}.environment = {cont['environment']}"
        assert cont["secrets"] == "${concat(local.base_secrets, local.read_replica_secrets)}", f"{c}.secrets = {cont['secrets']}"
    assert LOCALS["container_environment"] == "${merge(local.base_environment, local.read_replica_environment)}", LOCALS["container_environment"]
    names = list(LOCALS["base_environment"]) + env_names_in(LOCALS["read_replica_environment"])
    bad = [n for n in names if SECRET_NAME.search(n)]
    assert not bad, f"secret-looking names in the environment: {bad} (inject them through `secrets`/valueFrom)"
    td = json.load(open(os.path.join(ROOT, "deploy", "task-definition.json")))
    for cont in td["containerDefinitions"]:
        bad = [e["name"] for e in cont.get("environment", []) if SECRET_NAME.search(e["name"])]
        assert not bad, f"task-definition.json environment has {bad}"


@check("secrets come from Secrets Manager / SSM by ARN: DB_PASSWORD, API_TOKEN, NOTIFY_SECRET (+ DATABASE_READ_URL with a replica)")
def _():
    got = {s["name"]: s["valueFrom"] for s in LOCALS["base_secrets"]}
    assert got == {"DB_PASSWORD": "${aws_secretsmanager_secret.db.arn}:password::",
                   "API_TOKEN": "${aws_ssm_parameter.api_token.arn}",
                   "NOTIFY_SECRET": "${aws_secretsmanager_secret.notify.arn}"}, got
    assert res("aws_secretsmanager_secret_version", "notify")["secret_string"] == "${random_password.notify.result}"
    assert LOCALS["base_environment"].get("NOTIFY_URLS") == '${join(",", var.notify_urls)}', LOCALS["base_environment"].get("NOTIFY_URLS")
    assert VARS["notify_urls"]["default"] == [] and "https://" in one(VARS["notify_urls"]["validation"])["condition"], VARS["notify_urls"]
    rr = LOCALS["read_replica_secrets"]
    assert rr.startswith("${var.db_read_replica ?") and 'name = "DATABASE_READ_URL"' in rr and \
        "aws_secretsmanager_secret.db_read[0].arn" in rr, f"read_replica_secrets = {rr}"
    assert env_names_in(LOCALS["read_replica_environment"]) == ["READ_MAX_LAG"], LOCALS["read_replica_environment"]
    assert LOCALS["read_replica_environment"].startswith("${var.db_read_replica ?"), "READ_MAX_LAG must only be set with the replica"


@check("Terraform ignores values the runbook rotates outside it (API token, DB password, DB secrets)")
def _():
    def ignored(t, n):
        return one(res(t, n)["lifecycle"])["ignore_changes"]
    for t, n, attr in (("aws_ssm_parameter", "api_token", "value"), ("aws_db_instance", "main", "password"),
                       ("aws_secretsmanager_secret_version", "db", "secret_string"),
                       ("aws_secretsmanager_secret_version", "db_read", "secret_string"),
                       ("aws_secretsmanager_secret_version", "notify", "secret_string")):
        assert "${%s}" % attr in ignored(t, n), f"{t}.{n} does not ignore_changes [{attr}]: an apply would undo a rotation"


# ==================================================================== 6b. scratch
def scratch_mounts():
    """local.scratch_mount_points with local.tmpdir substituted."""
    return [dict(m, containerPath=LOCALS["tmpdir"] if m["containerPath"] == "${local.tmpdir}" else m["containerPath"])
            for m in LOCALS["scratch_mount_points"]]


@check("scratch space: TMPDIR is a mounted task volume (read-only root), same in both families and the image")
def _():
    tmpdir = LOCALS["tmpdir"]
    assert LOCALS["base_environment"].get("TMPDIR") == "${local.tmpdir}", f"TMPDIR env = {LOCALS['base_environment'].get('TMPDIR')}"
    mounts = {m["containerPath"]: m for m in scratch_mounts()}
    assert tmpdir in mounts and mounts[tmpdir]["readOnly"] is False, f"no writable volume mounted at TMPDIR {tmpdir}: {mounts}"
    for fam in ("api", "job"):
        td = res("aws_ecs_task_definition", fam)
        vols = {v["name"] for v in td["volume"]}
        assert {m["sourceVolume"] for m in scratch_mounts()} <= vols, f"{fam}: volumes {vols}"
    for c in ("api_container", "job_container"):
        assert LOCALS[c]["mountPoints"] == "${local.scratch_mount_points}", f"{c}.mountPoints = {LOCALS[c]['mountPoints']}"
        assert LOCALS[c]["readonlyRootFilesystem"] is True, f"{c}: root filesystem not read-only"
    docker = open(os.path.join(ROOT, "docker", "Dockerfile")).read()
    m = re.search(r"^ENV\s+TMPDIR=(\S+)", docker, re.M)
    if m:  # the image says where it wants its scratch space: the same place, declared a VOLUME
        assert m.group(1) == tmpdir, f"Dockerfile TMPDIR={m.group(1)}, task definitions mount {tmpdir}"
        assert re.search(r'^VOLUME\s.*"%s"' % re.escape(tmpdir), docker, re.M), f"Dockerfile does not declare VOLUME {tmpdir}"


# ===================================================================== 7. job family
@check("job task definition: own family and CPU/memory, no port mappings, no health check, never `serve`")
def _():
    job = res("aws_ecs_task_definition", "job")
    api = res("aws_ecs_task_definition", "api")
    assert job["family"] != api["family"], "job and service share a family"
    assert job["cpu"] == "${tostring(var.job_task_cpu)}" and job["memory"] == "${tostring(var.job_task_memory)}", (job["cpu"], job["memory"])
    assert job["container_definitions"] == "${jsonencode([local.job_container])}", job["container_definitions"]
    jc = LOCALS["job_container"]
    assert "portMappings" not in jc, "job container has portMappings"
    assert "healthCheck" not in jc, "job container has a healthCheck (nothing listens: every task would be UNHEALTHY)"
    assert "serve" not in jc["command"], f"job container command {jc['command']}"
    assert api["container_definitions"] == "${jsonencode([local.api_container])}", api["container_definitions"]


@check("scheduled run-job tasks use the job family (latest revision) and its container")
def _():
    sched = res("aws_scheduler_schedule", "run_job")
    inp = squash(one(sched["target"])["input"])
    assert "TaskDefinition = aws_ecs_task_definition.job.family" in inp, "schedules do not start the job family"
    assert "aws_ecs_task_definition.api" not in inp, "schedules reference the service family"
    assert "Name = local.job_container_name" in inp and '"run-job"' in inp, "container override is not run-job on the job container"


# ============================================================ 8. listeners, image_tag
@check("ECS service depends on the HTTP and the HTTPS listener; ignores task_definition (CI deploys)")
def _():
    svc = res("aws_ecs_service", "api")
    deps = svc["depends_on"]
    for want in ("${aws_lb_listener.http}", "${aws_lb_listener.https}"):
        assert want in deps, f"depends_on {deps} lacks {want}"
    ign = one(svc["lifecycle"])["ignore_changes"]
    assert "${task_definition}" in ign and "${desired_count}" in ign, ign


@check("HTTPS by default with a certificate: HTTP redirects; TLS 1.2+ policy")
def _():
    assert LOCALS["https_enabled"] == '${var.certificate_arn != ""}', LOCALS["https_enabled"]
    http = res("aws_lb_listener", "http")
    act = one(http["default_action"])
    assert act["type"] == '${local.https_enabled ? "redirect" : "forward"}', act["type"]
    https = res("aws_lb_listener", "https")
    assert https["count"] == "${local.https_enabled ? 1 : 0}", https["count"]
    assert https["protocol"] == "HTTPS" and https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13"), https["ssl_policy"]
    assert "PLAIN HTTP" in OUTPUTS["warning"]["value"], "no loud `warning` output for plain HTTP"
    chk = one(TF["alb.tf"]["check"]["https"][0]["assert"])
    assert chk["condition"] == "${local.https_enabled}" and "PLAIN HTTP" in chk["error_message"], chk


@check("plain HTTP is not open to 0.0.0.0/0 by default")
def _():
    rule = res("aws_vpc_security_group_ingress_rule", "alb_http")
    assert rule["for_each"] == "${toset(local.https_enabled ? var.allowed_cidrs : var.plain_http_allowed_cidrs)}", rule["for_each"]
    assert VARS["plain_http_allowed_cidrs"]["default"] == [], VARS["plain_http_allowed_cidrs"].get("default")
    for name, r in RES["aws_vpc_security_group_ingress_rule"].items():
        assert r.get("cidr_ipv4") != "0.0.0.0/0", f"{name} is open to 0.0.0.0/0 unconditionally"


@check("image_tag is required (no default) and rejects `latest`")
def _():
    v = VARS["image_tag"]
    assert "default" not in v, f"image_tag has a default: {v['default']!r}"
    assert "latest" in one(v["validation"])["condition"], "no validation against latest"


# ==================================================================== 9. monitoring
ALARM_METRICS = {
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"), ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
    ("AWS/ApplicationELB", "UnHealthyHostCount"), ("AWS/ApplicationELB", "TargetResponseTime"),
    ("AWS/RDS", "CPUUtilization"), ("AWS/RDS", "FreeStorageSpace"), ("AWS/RDS", "DatabaseConnections"),
    ("${local.metrics_namespace}", "RunsFinished"),
}


@check("alarms: ALB 5xx, unhealthy hosts, p99 latency, RDS CPU/storage/connections, failed ETL runs; all to the SNS topic")
def _():
    alarms = RES["aws_cloudwatch_metric_alarm"]
    got = {(a["namespace"], a["metric_name"]) for a in alarms.values()}
    missing = ALARM_METRICS - got
    assert not missing, f"no alarm on {sorted(missing)}"
    assert LOCALS["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"], LOCALS["alarm_actions"]
    for n, a in alarms.items():
        if n == "deep_health":  # Route 53 metrics live in us-east-1: so do its alarm and topic (checked below)
            continue
        assert a.get("alarm_actions") == "${local.alarm_actions}", f"{n} does not notify the topic"
    p99 = [a for a in alarms.values() if a["metric_name"] == "TargetResponseTime"][0]
    assert p99.get("extended_statistic") == "p99", p99
    failed_runs = [a for a in alarms.values() if a["metric_name"] == "RunsFinished"][0]
    assert failed_runs["dimensions"] == {"status": "failed"}, failed_runs["dimensions"]
    sub = res("aws_sns_topic_subscription", "alarm_email")
    assert sub["endpoint"] == "${var.alarm_email}" and sub["protocol"] == "email", sub


@check("log metric filters use the field names the server really logs")
def _():
    log_cpp = open(os.path.join(ROOT, "src", "log", "log.cpp")).read() if os.path.exists(os.path.join(ROOT, "src", "log", "log.cpp")) else \
        "".join(open(os.path.join(ROOT, "src", "log", f)).read() for f in os.listdir(os.path.join(ROOT, "src", "log")))
    assert 'j["msg"] = message' in log_cpp, "the JSON log no longer puts the message in `msg`"
    runner = open(os.path.join(ROOT, "src", "etl", "job_runner.cpp")).read()
    m = re.search(r'"run finished",(.*?)\);', runner, re.S)
    assert m, 'src/etl/job_runner.cpp no longer logs "run finished"'
    fields = set(re.findall(r'\{"([a-z_]+)",', m.group(1)))
    access_log = open(os.path.join(ROOT, "src", "http", "access_log.cpp")).read()
    assert re.search(r'"http", "request", fields', access_log), 'src/http/access_log.cpp no longer logs "request" lines'
    req_fields = set(re.findall(r'\{"([a-z_]+)",', access_log))
    filters = RES["aws_cloudwatch_log_metric_filter"]
    rf = filters["runs_finished"]
    assert rf["pattern"] == '{ $.msg = "run finished" }', rf["pattern"]
    assert one(rf["metric_transformation"])["dimensions"] == {"status": "$.status"}
    assert "status" in fields, f"run finished fields {sorted(fields)} lack status"
    rows = filters["rows_written"]["for_each"]
    assert isinstance(rows, dict) and rows, rows
    for f in re.findall(r"\$\.([a-z_]+)", json.dumps(rows)):
        assert f in fields, f"metric filter reads $.{f}, the run finished line has {sorted(fields)}"
    h = filters["http_503"]
    assert h["pattern"] == '{ $.msg = "request" && $.status = 503 }' and "status" in req_fields, (h["pattern"], req_fields)


@check("dashboard: request rate, p50/p99 latency, 5xx, healthy hosts, runs by status, rows per run, DB connections and CPU")
def _():
    body = res("aws_cloudwatch_dashboard", "main")["dashboard_body"]
    for want in ('"RequestCount"', 'stat = "p50"', 'stat = "p99"', '"HTTPCode_Target_5XX_Count"', '"HealthyHostCount"',
                 '"RunsFinished", "status"', '"RowsInserted"', '"DatabaseConnections"', '"CPUUtilization"'):
        assert want in body, f"dashboard lacks {want}"


# ============================================= 10. task-definition.json agrees with ecs.tf
TD_PATH = os.path.join(ROOT, "deploy", "task-definition.json")
TD = json.load(open(TD_PATH))


def default(var):
    return VARS[var]["default"]


@check("task-definition.json agrees with ecs.tf (family, size, image placeholder, env names, health check, ports, user)")
def _():
    name = f"{default('project')}-{default('environment')}"
    assert TD["family"] == name, f"family {TD['family']} != {name}"
    assert TD["cpu"] == str(default("task_cpu")) and TD["memory"] == str(default("task_memory")), (TD["cpu"], TD["memory"])
    assert TD["networkMode"] == "awsvpc" and TD["requiresCompatibilities"] == ["FARGATE"]
    assert [v["name"] for v in TD["volumes"]] == [v["name"] for v in res("aws_ecs_task_definition", "api")["volume"]], TD["volumes"]
    (c,) = TD["containerDefinitions"]
    api = LOCALS["api_container"]
    assert c["name"] == LOCALS["container_name"], c["name"]
    assert re.fullmatch(rf"<ACCOUNT_ID>\.dkr\.ecr\.<REGION>\.amazonaws\.com/{name}:<GIT_SHA>", c["image"]), f"image placeholder {c['image']}"
    for k in ("command", "user", "stopTimeout", "readonlyRootFilesystem", "essential", "healthCheck",
              "linuxParameters", "ulimits"):
        assert c.get(k) == api[k], f"{k}: task-definition.json {c.get(k)!r} != ecs.tf {api[k]!r}"
    assert c["healthCheck"]["command"] == HEALTHCHECK_COMMAND
    assert c["mountPoints"] == scratch_mounts(), f"mountPoints {c['mountPoints']} != ecs.tf {scratch_mounts()}"
    (pm,) = c["portMappings"]
    assert pm["containerPort"] == pm["hostPort"] == SERVER_PORT, pm
    tf_pm = one(api["portMappings"])
    assert {k: v for k, v in pm.items() if "Port" not in k} == {k: v for k, v in tf_pm.items() if "Port" not in k}, (pm, tf_pm)
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert sorted(env) == sorted(LOCALS["base_environment"]), \
        f"env names differ: only in json {sorted(set(env) - set(LOCALS['base_environment']))}, only in tf {sorted(set(LOCALS['base_environment']) - set(env))}"
    assert [e["name"] for e in c["environment"]] == sorted(env), "environment not sorted like the for-expression renders it"
    for k, v in LOCALS["base_environment"].items():
        if "${" not in str(v):
            assert env[k] == str(v), f"{k}: {env[k]!r} != {v!r}"
    assert [s["name"] for s in c["secrets"]] == [s["name"] for s in LOCALS["base_secrets"]], c["secrets"]
    assert c["secrets"][0]["valueFrom"].startswith("arn:aws:secretsmanager:") and c["secrets"][0]["valueFrom"].endswith(":password::")
    assert c["secrets"][1]["valueFrom"].startswith("arn:aws:ssm:")
    assert c["secrets"][2]["valueFrom"].startswith("arn:aws:secretsmanager:"), c["secrets"][2]
    opts = c["logConfiguration"]["options"]
    assert opts["awslogs-group"] == f"/ecs/{name}" and opts["awslogs-stream-prefix"] == api["logConfiguration"]["options"]["awslogs-stream-prefix"], opts


@check("task-definition.json is a valid RegisterTaskDefinition input (botocore ECS model)")
def _():
    import botocore.session
    from botocore.validate import ParamValidator
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(TD, shape)
    assert not report.has_errors(), "\n" + report.generate_report()
    # Every container member is a known member (the validator checks this too; say which).
    cshape = shape.members["containerDefinitions"].member
    for c in TD["containerDefinitions"]:
        unknown = set(c) - set(cshape.members)
        assert not unknown, f"unknown container members {unknown}"


# ====================================================================== 11. workflows
def steps_of(wf):
    for job_name, job in wf["jobs"].items():
        if "uses" in job:
            continue
        for i, st in enumerate(job.get("steps", [])):
            yield job_name, i, st


@check("workflows: ci.yml and deploy.yml exist; every job has runs-on, a timeout and steps")
def _():
    assert {"ci.yml", "deploy.yml"} <= set(WORKFLOWS), f"workflows: {sorted(WORKFLOWS)}"
    for f, wf in WORKFLOWS.items():
        assert "permissions" in wf, f"{f}: no top-level permissions (the default token is read-write)"
        for jn, job in wf["jobs"].items():
            if "uses" in job:  # a call of a reusable workflow: it must be one of ours
                assert job["uses"].startswith("./.github/workflows/"), f"{f}: job {jn} calls {job['uses']}"
                continue
            assert job.get("runs-on"), f"{f}: job {jn} has no runs-on"
            assert isinstance(job.get("timeout-minutes"), int), f"{f}: job {jn} has no timeout-minutes"
            assert job.get("steps"), f"{f}: job {jn} has no steps"


@check("workflows: every `uses` is pinned to a full commit SHA")
def _():
    for f, wf in WORKFLOWS.items():
        for jn, i, st in steps_of(wf):
            u = st.get("uses")
            if u and not u.startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u), f"{f}: {jn} step {i}: `uses: {u}` is not pinned to a commit SHA"


@check("workflows: no long-lived AWS keys anywhere")
def _():
    for f in WORKFLOWS:
        text = open(os.path.join(ROOT, ".github", "workflows", f)).read()
        for bad in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert bad not in text, f"{f} mentions {bad}"


@check("ci.yml: on pull_request and push, runs scripts/test.sh then scripts/image-smoke.sh")
def _():
    wf = WORKFLOWS["ci.yml"]
    on = wf.get("on", wf.get(True))  # YAML 1.1 parsers read `on` as true
    assert "pull_request" in on and "push" in on, f"on: {on}"
    runs = [st.get("run", "") for _, _, st in steps_of(wf)]
    t = [i for i, r in enumerate(runs) if "bash scripts/test.sh" in r]
    s = [i for i, r in enumerate(runs) if "bash scripts/image-smoke.sh" in r]
    assert t and s and t[0] < s[0], f"steps: {runs}"
    assert wf["permissions"] == {"contents": "read"}, wf["permissions"]


@check("deploy.yml: main (or a manual redeploy of a commit), OIDC, deploys by digest the image ci.yml smoke-tested and pushed; builds nothing")
def _():
    wf = WORKFLOWS["deploy.yml"]
    on = wf.get("on", wf.get(True))
    assert set(on) == {"push", "workflow_dispatch"} and on["push"]["branches"] == ["main"], f"on: {on}"
    assert on["workflow_dispatch"]["inputs"]["commit"]["required"] is True, "manual redeploy needs a commit input"
    ci = wf["jobs"].get("ci", {})
    assert ci.get("uses") == "./.github/workflows/ci.yml" and ci.get("with", {}).get("push_image") is True, \
        "deploy must call ci.yml with push_image: true (the tested image is the pushed one)"
    assert wf["jobs"]["deploy"].get("needs") in ("ci", ["ci"]), "deploy must need the ci job (no deploy of an untested commit)"
    assert "needs.ci.result == 'success'" in wf["jobs"]["deploy"]["if"], wf["jobs"]["deploy"]["if"]
    ci_on = WORKFLOWS["ci.yml"].get("on", WORKFLOWS["ci.yml"].get(True))
    assert "push_image" in ci_on["workflow_call"]["inputs"] and "image" in ci_on["workflow_call"]["outputs"], ci_on
    assert wf["permissions"].get("id-token") == "write", wf["permissions"]
    text = open(os.path.join(ROOT, ".github", "workflows", "deploy.yml")).read()
    assert "buildx" not in text and "docker build" not in text and "podman build" not in text, "deploy.yml must not build an image"
    steps = [st for _, _, st in steps_of(wf)]
    creds = [st for st in steps if st.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert len(creds) == 1 and creds[0]["with"].get("role-to-assume"), "no configure-aws-credentials with role-to-assume"
    image = [st for st in steps if st.get("id") == "image"]
    assert image and image[0]["env"]["PUSHED"] == "${{ needs.ci.outputs.image }}", "deploy must take the image ci.yml pushed"
    assert "describe-images" in image[0]["run"] and "@$digest" in image[0]["run"], "a manual redeploy must resolve the commit's digest"
    dep = [st for st in steps if "bash scripts/ecs-deploy.sh" in st.get("run", "")]
    assert dep and dep[0]["env"]["IMAGE"] == "${{ steps.image.outputs.image }}", "ecs-deploy.sh must get the image by digest"
    assert steps.index(creds[0]) < steps.index(image[0]) < steps.index(dep[0]), "step order"
    for v in ("ECS_CLUSTER", "ECS_SERVICE", "ECS_SERVICE_FAMILY", "ECS_JOB_FAMILY", "ECS_JOB_CONTAINER", "RUN_TASK_NETWORK_CONFIGURATION"):
        assert v in dep[0].get("env", {}), f"ecs-deploy.sh step lacks {v}"
        assert v in OUTPUTS["github_actions_variables"]["value"], f"output github_actions_variables lacks {v}"


@check("ci.yml: the image the smoke test passed is the one pushed (by digest, skipped when the commit's tag exists)")
def _():
    wf = WORKFLOWS["ci.yml"]
    steps = [st for _, _, st in steps_of(wf)]
    smoke = [st for st in steps if "bash scripts/image-smoke.sh" in st.get("run", "")]
    push = [st for st in steps if "bash scripts/push-image.sh" in st.get("run", "")]
    assert smoke and push and steps.index(smoke[0]) < steps.index(push[0]), "push-image.sh must follow the smoke test"
    assert smoke[0]["env"]["IMAGE_SMOKE_RESULT"] == push[0]["env"]["TESTED_IMAGE_FILE"], "push must take the image the smoke test named"
    assert push[0]["if"] == "${{ inputs.push_image }}" and push[0]["env"]["COMMIT"] == "${{ github.sha }}", push[0]
    assert wf["jobs"]["test"]["outputs"]["image"] == "${{ steps.push.outputs.image }}", wf["jobs"]["test"]["outputs"]
    script = open(os.path.join(ROOT, "scripts", "push-image.sh")).read()
    for want in ("describe-images", "imageTag=$tag", "podman push", "--digestfile", 'echo "$repo@$digest"', 'echo "$repo@$existing"'):
        assert want in script, f"scripts/push-image.sh lacks {want}"
    assert "podman build" not in script and "docker build" not in script, "push-image.sh must not rebuild"
    smoke_text = open(os.path.join(ROOT, "scripts", "image-smoke.sh")).read()
    assert 'echo "$image" >"$IMAGE_SMOKE_RESULT"' in smoke_text, "image-smoke.sh does not name the tested image"


@check("scripts/ecs-deploy.sh: migrate on the job family, exit code checked, services-stable, rollback")
def _():
    text = open(os.path.join(ROOT, "scripts", "ecs-deploy.sh")).read()
    for want in ('register "$ECS_JOB_FAMILY"', '"command":["migrate"]', "wait tasks-stopped", 'exit_code" != 0',
                 'register "$ECS_SERVICE_FAMILY"', "update-service", "wait services-stable", '--task-definition "$previous"',
                 "deregister-task-definition"):
        assert want in text, f"scripts/ecs-deploy.sh lacks {want}"


# ========================================================================== 12. docs
@check("docs: docker build runs from the repo root; every terraform apply/plan passes the tfvars file")
def _():
    for doc in ("deploy/README.md", "docs/runbook.md"):
        text = open(os.path.join(ROOT, doc)).read()
        # Commands: each fenced code block, and each `inline code` span. A block
        # starts in deploy/ when the document says its commands assume that.
        starts_in_deploy = "Commands assume `cd deploy`" in text
        snippets, block, fenced = [], [], False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                if fenced:
                    snippets.append("\n".join(block).replace("\\\n", " "))
                    block = []
                fenced = not fenced
                continue
            if fenced:
                block.append(line)
            else:
                # a bare `terraform apply` in prose names the command, it is not one
                snippets.extend(c for c in re.findall(r"`([^`]+)`", line) if not re.fullmatch(r"terraform \w+", c))
        for snippet in snippets:
            in_deploy = starts_in_deploy
            for line in snippet.splitlines():
                s = line.strip()
                if re.match(r"cd deploy\b", s):
                    in_deploy = True
                elif re.match(r"cd (\.\.|\"?\$\(git rev-parse --show-toplevel\)\"?)\s*$", s):
                    in_deploy = False
                if re.search(r"docker (buildx )?build\b.*-f docker/Dockerfile", s):
                    assert re.search(r"\s\.(\s|$)", s) and " .." not in s, f"{doc}: `{s}` must build with the repository root as context"
                    assert not in_deploy or re.search(r"cd (\.\.|\"?\$\(git rev-parse --show-toplevel\)\"?) &&.*docker", s), \
                        f"{doc}: `{s}` runs in deploy/: -f docker/Dockerfile resolves against the current directory"
                if re.search(r"\bterraform (apply|plan)\b", s):
                    assert "-var-file=" in s, f"{doc}: `{s}` lacks -var-file= (an apply without it drops HTTPS, schedules, ...)"


# ====================================== 14. what CI tested is what runs (issue 20 §3)
@check("deregistration delay outlasts WAIT_TIMEOUT, which the task sets from the same local (below the ALB idle timeout)")
def _():
    tg = res("aws_lb_target_group", "api")
    assert tg["deregistration_delay"] == "${local.wait_timeout_seconds + 10}", tg["deregistration_delay"]
    assert LOCALS["base_environment"]["WAIT_TIMEOUT"] == "${tostring(local.wait_timeout_seconds)}", LOCALS["base_environment"]
    assert LOCALS["wait_timeout_seconds"] + 10 <= 120 and LOCALS["wait_timeout_seconds"] < VARS["alb_idle_timeout"]["default"]


@check("task definitions are kept when Terraform replaces them (skip_destroy): the service may roll back to them")
def _():
    for name in ("api", "job"):
        assert res("aws_ecs_task_definition", name).get("skip_destroy") is True, f"aws_ecs_task_definition.{name} lacks skip_destroy = true"


@check("RDS PostgreSQL log group is Terraform's, with the retention of the service's logs")
def _():
    lg = res("aws_cloudwatch_log_group", "rds")
    assert lg["name"] == "/aws/rds/instance/${local.name}/postgresql", lg["name"]
    assert lg["retention_in_days"] == "${var.log_retention_days}", lg
    db = res("aws_db_instance", "main")
    assert db["identifier"] == "${local.name}" and "aws_cloudwatch_log_group.rds" in str(db.get("depends_on")), db.get("depends_on")


# ================================================ 13. nothing fails silently (issue 24)
def nospace(s):
    """Expression text without any whitespace, for substring checks of jsonencode({...}) patterns."""
    return re.sub(r"\s+", "", str(s))


@check("raw bucket sends its events to EventBridge; Object Created under the partner prefixes starts run-object")
def _():
    assert res("aws_s3_bucket_notification", "raw") == dict(res("aws_s3_bucket_notification", "raw"), bucket="${aws_s3_bucket.raw.id}", eventbridge=True)
    rule = res("aws_cloudwatch_event_rule", "object_created")
    pattern = nospace(rule["event_pattern"])
    for want in ('source=["aws.s3"]', '"detail-type"=["ObjectCreated"]', "bucket={name=[aws_s3_bucket.raw.id]}",
                 "object={key=[forpinvar.s3_event_prefixes:{prefix=p}]}"):
        assert want in pattern, f"object_created pattern lacks {want}: {pattern}"
    target = res("aws_cloudwatch_event_target", "run_object")
    assert target["rule"] == "${aws_cloudwatch_event_rule.object_created.name}" and target["arn"] == "${aws_ecs_cluster.main.arn}", target
    ecs = one(target["ecs_target"])
    assert ecs["task_definition_arn"] == "${aws_ecs_task_definition.job.arn_without_revision}", "must run the job family's latest revision"
    assert ecs["launch_type"] == "FARGATE" and one(ecs["network_configuration"])["assign_public_ip"] is False, ecs
    tr = one(target["input_transformer"])
    assert tr["input_paths"] == {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}, tr["input_paths"]
    template = json.loads(tr["input_template"].replace("${local.job_container_name}", "job"))
    assert template["containerOverrides"][0]["command"] == ["run-object", "s3://<bucket>/<key>"], template
    assert template["containerOverrides"][0]["name"] == "job", template
    assert one(target["dead_letter_config"])["arn"] == "${aws_sqs_queue.job_dlq.arn}", "S3-event rule without a dead-letter queue"
    default = VARS["s3_event_prefixes"]["default"]
    assert "partners/" in default and not any(p.startswith("raw/partners/") for p in default), default


@check("events role: exactly ecs:RunTask (job family, this cluster), ecs:TagResource, iam:PassRole")
def _():
    assert actions_by_sid("events") == SCHEDULER_ROLE, actions_by_sid("events")
    trust = squash(DATA["aws_iam_policy_document"]["events_assume"]["statement"][0]["principals"][0]["identifiers"][0])
    assert trust == "events.amazonaws.com", trust


@check("schedules and the S3-event rule dead-letter into one SQS queue whose depth is alarmed")
def _():
    for name, sched in RES["aws_scheduler_schedule"].items():
        assert one(one(sched["target"])["dead_letter_config"])["arn"] == "${aws_sqs_queue.job_dlq.arn}", f"schedule {name} has no DLQ"
    assert actions_by_sid("scheduler_dlq") == {"DeadLetters": ["sqs:SendMessage"]}, "the scheduler role cannot send dead letters"
    queue_policy = policy_statements("job_dlq")
    assert [st["actions"] for st in queue_policy] == [["sqs:SendMessage"]], queue_policy
    assert "aws_cloudwatch_event_rule.object_created.arn" in str(queue_policy[0]["condition"]), "queue policy not scoped to the rule"
    alarm = res("aws_cloudwatch_metric_alarm", "job_dlq_depth")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"), alarm
    assert alarm["dimensions"] == {"QueueName": "${aws_sqs_queue.job_dlq.name}"} and alarm["threshold"] == 0, alarm


@check("a job-family task stopping non-zero or never starting → SNS with its stop reason")
def _():
    pattern = nospace(res("aws_cloudwatch_event_rule", "job_task_failed")["event_pattern"])
    for want in ('source=["aws.ecs"]', '"detail-type"=["ECSTaskStateChange"]', 'lastStatus=["STOPPED"]',
                 "aws_ecs_task_definition.job.arn_without_revision", 'stopCode=["TaskFailedToStart"]',
                 'exitCode=[{"anything-but"=0}]', "clusterArn=[aws_ecs_cluster.main.arn]"):
        assert want in pattern, f"job_task_failed pattern lacks {want}: {pattern}"
    target = res("aws_cloudwatch_event_target", "job_task_failed")
    assert target["arn"] == "${aws_sns_topic.alarms.arn}", target["arn"]
    tr = one(target["input_transformer"])
    assert tr["input_paths"].get("stopped") == "$.detail.stoppedReason" and "<stopped>" in tr["input_template"], tr
    sids = {st["sid"]: st for st in policy_statements("alarms_topic")}
    assert set(sids) == {"CloudWatchAlarms", "JobTaskFailedRule"}, sids
    assert "aws_cloudwatch_event_rule.job_task_failed.arn" in str(sids["JobTaskFailedRule"]["condition"])


@check("an external deep probe of GET /health through the ALB, alarmed (in us-east-1) to an SNS topic")
def _():
    hc = res("aws_route53_health_check", "deep")
    assert hc["resource_path"] == "/health", "the probe must ask the deep /health, not /health/live"
    assert "aws_lb.main.dns_name" in hc["fqdn"], hc["fqdn"]
    alarm = res("aws_cloudwatch_metric_alarm", "deep_health")
    assert alarm["provider"] == "${aws.us_east_1}" or alarm["provider"] == "aws.us_east_1", alarm["provider"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Route53", "HealthCheckStatus"), alarm
    assert alarm["dimensions"] == {"HealthCheckId": "${aws_route53_health_check.deep.id}"}, alarm["dimensions"]
    assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms_us_east_1.arn}"], alarm["alarm_actions"]
    # The checkers must get through the ALB's security group whatever allowed_cidrs says.
    probe = res("aws_vpc_security_group_ingress_rule", "alb_health_probe")
    assert probe["prefix_list_id"] == "${data.aws_ec2_managed_prefix_list.route53_healthchecks.id}", probe
    assert DATA["aws_ec2_managed_prefix_list"]["route53_healthchecks"]["name"] == "com.amazonaws.${var.aws_region}.route53-healthchecks"
    assert probe["from_port"] == probe["to_port"] == "${local.https_enabled ? 443 : 80}", probe
    assert probe["security_group_id"] == "${aws_security_group.alb.id}", probe
    assert res("aws_sns_topic", "alarms_us_east_1")["provider"] in ("${aws.us_east_1}", "aws.us_east_1")
    assert PROVIDER_ALIASES.get("aws") == {"us_east_1"}, PROVIDER_ALIASES


@check("runbook: what each alarm means and what to do, one entry per alarm and for the job-task and DLQ messages")
def _():
    text = open(os.path.join(ROOT, "docs", "runbook.md")).read()
    section = text.split("## Alarms: what each one means and what to do", 1)
    assert len(section) == 2, "docs/runbook.md lacks the section '## Alarms: what each one means and what to do'"
    body = section[1].split("\n## ", 1)[0]
    for name, alarm in RES["aws_cloudwatch_metric_alarm"].items():
        suffix = squash(alarm["alarm_name"]).split("}-", 1)[-1]
        assert f"`{suffix}`" in body, f"runbook does not explain the alarm `{suffix}` ({name})"
    assert "job task failed" in body.lower(), "runbook does not explain the job-task-failed message"


print(f"deploy checks: {passed} passed, {len(failed)} failed")
if failed:
    print("failed: " + "; ".join(failed))
    sys.exit(1)
