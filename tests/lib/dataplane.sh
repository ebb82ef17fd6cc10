# Sourced by the shell integration tests that run holdfast-dataplane on the
# veth pair of scripts/netns: the configuration's dataplane section they share.

# dataplane_yaml FILE_PREFIX VDEV: one worker on lcore 1, no hugepages (the
# tests run beside other DPDK processes: their own --file-prefix), the
# service addresses scripts/netns set up, one port on VDEV.
dataplane_yaml() {
	cat <<EOY
dataplane:
  eal-args: ["-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--no-shconf",
             "--file-prefix=$1", "--no-telemetry", "--vdev=$2"]
  workers: [1]
  addresses: [$HF_SERVICE4, "$HF_SERVICE6"]
  ports:
    - name: wire
      device: ${2%%,*}
EOY
}
