#!/usr/bin/env bash
# The --slurm path of `aifsim sweep` against a real Slurm (Debian's slurm-wlm 22.05):
# starts munged, slurmctld and slurmd on this host (as root, in a scratch directory),
# submits the quickstart policy sweep as a job array and its collector, waits, and checks
# that the comparison equals the one the local sweep writes.
# Usage: tests/slurm/sweep_on_slurm.sh AIFSIM_BINARY WORK_DIR
set -euo pipefail
aifsim=$1
work=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "needs root to start the Slurm daemons" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"/{state,spool,log}
host=$(hostname -s)
cat > "$work/slurm.conf" <<CONF
ClusterName=aifsim-test
SlurmctldHost=$host
SlurmctldPort=6917
SlurmdPort=6918
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  [ -f /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  su -s /bin/sh munge -c /usr/sbin/munged
fi
stop() {
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
}
trap stop EXIT
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sweep=$here/scenarios/sweeps/quickstart-policies.json
"$aifsim" sweep -q "$sweep" --slurm -o "$work/slurm"
"$work/slurm/submit.sh" >/dev/null
for _ in $(seq 300); do [ -s "$work/slurm/compare.csv" ] && [ -z "$(squeue -h)" ] && break; sleep 1; done
[ -s "$work/slurm/compare.csv" ] || { echo "the collector job wrote no compare.csv" >&2; cat "$work"/log/*.log >&2; exit 1; }
"$aifsim" sweep -q "$sweep" -j 2 -o "$work/local"
diff <(sed "s|$work/slurm/||" "$work/slurm/compare.csv") <(sed "s|$work/local/||" "$work/local/compare.csv")
echo "slurm sweep: $(($(wc -l < "$work/slurm/compare.csv") - 1)) points, comparison identical to the local sweep"
