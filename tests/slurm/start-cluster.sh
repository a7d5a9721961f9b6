#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (controller and compute node on the local
# host) for the tests: a munge daemon with a fresh key, slurmctld and slurmd, all state, sockets
# and logs in one folder. Needs Debian's slurmctld, slurmd, slurm-client and munge, and root
# (CI runs as root). No cgroups: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none.
#
#   tests/slurm/start-cluster.sh [DIR]     default DIR: ${TMPDIR:-/tmp}/sllmr-slurm
#
# On success it prints the line to use the cluster (export SLURM_CONF=DIR/slurm.conf) and exits
# 0 once `sinfo` shows the node idle. It exits 77 with the reason when the cluster cannot start
# here (not root, a package missing, a daemon that does not come up). Ports: 6817/6818, or
# SLLMR_SLURM_PORT and SLLMR_SLURM_PORT+1. tests/slurm/stop-cluster.sh DIR stops it.
set -euo pipefail

dir="${1:-${TMPDIR:-/tmp}/sllmr-slurm}"
port="${SLLMR_SLURM_PORT:-6817}"
skip() { echo "start-cluster.sh: cannot start a Slurm cluster here: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs the jobs as their users)"
for p in munged slurmctld slurmd sinfo sbatch squeue scancel; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
    skip "'$p' is missing (apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH="$PATH:/usr/sbin"

"$(dirname "$0")/stop-cluster.sh" "$dir" >/dev/null 2>&1 || true
rm -rf "$dir"
mkdir -p "$dir"/{munge,state,spool,log,run}
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed" ||
  skip "munged did not start: $(tail -n 3 "$dir/log/munged.log" 2>/dev/null)"

host="$(hostname -s)"
cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
cat > "$dir/slurm.conf" <<CONF
# Written by tests/slurm/start-cluster.sh: a one-node test cluster.
ClusterName=sllmrtest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes (there is no accounting database).
MinJobAge=600
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -c -f "$SLURM_CONF" ||
  skip "slurmctld did not start: $(tail -n 5 "$dir/log/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" ||
  skip "slurmd did not start: $(tail -n 5 "$dir/log/slurmd.log" 2>/dev/null)"

for _ in $(seq 1 60); do
  state="$(sinfo -h -o %t 2>/dev/null | head -n 1 || true)"
  if [ "$state" = "idle" ]; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "--- slurmctld.log" >&2; tail -n 20 "$dir/log/slurmctld.log" >&2 || true
echo "--- slurmd.log" >&2; tail -n 20 "$dir/log/slurmd.log" >&2 || true
"$(dirname "$0")/stop-cluster.sh" "$dir" >/dev/null 2>&1 || true
skip "the node did not become idle within 60 s (sinfo says '${state:-nothing}')"
