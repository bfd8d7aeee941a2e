#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for the tests of the sweep's Slurm backend.
#
#   .ci/slurm-cluster.sh start [BASE]   installs slurm-wlm + munge if missing, starts munged, slurmctld, slurmd
#                                       with everything under BASE (default /tmp/scorescope-slurm); prints
#                                       `export SLURM_CONF=...` as its last line
#   .ci/slurm-cluster.sh stop  [BASE]   cancels jobs, stops the daemons it started (by recorded pid, never by name)
#
# Needs root (it starts daemons); exits 3 with a message when Slurm cannot be set up here.
set -euo pipefail
cmd="${1:-}"; base="${2:-/tmp/scorescope-slurm}"
conf="$base/slurm.conf"

die_unavailable() { echo "slurm-cluster: $*" >&2; exit 3; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_pid() { # wait_pid PIDFILE SECONDS
  local i=0; while ! alive "$1"; do sleep 0.1; i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; done; return 0
}

start() {
  [ "$(id -u)" = "0" ] || die_unavailable "must run as root to start slurmctld/slurmd"
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) \
      >/dev/null 2>&1 || die_unavailable "could not install slurm-wlm and munge with apt-get"
  fi
  mkdir -p "$base"/{state,spool,log}
  # munge: key, run dir, daemon as the munge user (as root it refuses its log file).
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || die_unavailable "cannot create a munge key"
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid 2>/dev/null || true
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null 2>&1 || die_unavailable "munged did not start"
    cp /run/munge/munged.pid "$base/munged.pid" 2>/dev/null || true
  fi
  local host node
  host="$(hostname -s)"
  node="$(slurmd -C | head -1) NodeAddr=127.0.0.1"
  # Declare 4 CPUs so that a 4-task array of 1-CPU tasks runs at once on a 2-core machine.
  node="$(echo "$node" | sed -E 's/CPUs=[0-9]+/CPUs=4/; s/CoresPerSocket=[0-9]+/CoresPerSocket=4/')"
  cat > "$conf" <<CONF
ClusterName=scorescope-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$base/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
SlurmdParameters=config_overrides
MinJobAge=600
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
$node
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$conf"
  alive "$base/slurmctld.pid" || slurmctld -c -f "$conf"
  wait_pid "$base/slurmctld.pid" 10 || die_unavailable "slurmctld did not start (see $base/log/slurmctld.log)"
  alive "$base/slurmd.pid" || slurmd -N "$host" -f "$conf"
  wait_pid "$base/slurmd.pid" 10 || die_unavailable "slurmd did not start (see $base/log/slurmd.log)"
  for _ in $(seq 100); do
    sinfo -h -o %T 2>/dev/null | grep -qE "^idle" && break; sleep 0.1
  done
  sinfo -h -o %T 2>/dev/null | grep -qE "^(idle|mixed|allocated)" || die_unavailable "node not idle: $(sinfo 2>&1 | tail -1)"
  echo "export SLURM_CONF=$conf"
}

stop() {
  export SLURM_CONF="$conf"
  [ -f "$conf" ] && scancel --user=root 2>/dev/null || true
  for d in slurmd slurmctld munged; do
    if alive "$base/$d.pid"; then kill -TERM "$(cat "$base/$d.pid")" 2>/dev/null || true; fi
  done
  sleep 0.3
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [BASE]" >&2; exit 2 ;;
esac
