# What an unprivileged member of group wireshark needs to trace (measured: docs/privileges.md).
# The package's postinst grants it, its man page and description say it; the package tests (this
# machine's, tests/package, and each suite's, tests/distro) check the package against it.
set(PWRU_CAPABILITIES "cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search")
set(PWRU_CAPABILITIES_TEXT "CAP_BPF, CAP_PERFMON, CAP_SYSLOG and CAP_DAC_READ_SEARCH")
set(PWRU_CAPABILITY_GROUP "wireshark")  # the group wireshark-common uses for dumpcap
