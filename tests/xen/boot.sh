# boot.sh: boots Xen under QEMU (sourced)
#
# TCG only: this host's /dev/kvm cannot run Xen, and TCG works on any
# x86-64 machine. The CPU model hides SMAP (a PV dom0 crashes on its first
# fault with it) and RDTSCP (QEMU's nested SVM mis-reports its intercept
# and a PVH guest loops). Xen is a multiboot kernel; the modules are dom0's
# kernel and its initramfs, "file args" separated by commas, so commas
# inside module arguments are doubled (and must not be in -append).

XT_QEMU_MEM=${KEEL_XEN_QEMU_MEM:-3072}
XT_XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=all guest_loglvl=all"

xt_qemu_args() { # DOM0-ARGS
    case $XT_WORK in *,*) xt_die "KEEL_XEN_WORK must not contain a comma" ;; esac
    XT_QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max,-smap,-rdtscp
        -machine pc -m "$XT_QEMU_MEM" -smp 4 -no-reboot -nic none
        -kernel "$XT_WORK/xen" -append "$XT_XEN_ARGS"
        -initrd "$XT_WORK/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init $1,$XT_WORK/dom0.cpio")
}

# An interactive boot: dom0's shell on this terminal (Ctrl-A X quits QEMU).
xt_boot_shell() {
    xt_qemu_args "keelshell"
    xt_say "booting Xen; dom0's shell comes up on this terminal (Ctrl-A X quits QEMU)"
    "${XT_QEMU[@]}" -nographic -serial mon:stdio
}

XT_QEMU_PID=
xt_kill_qemu() {
    if [ -n "$XT_QEMU_PID" ] && kill -0 "$XT_QEMU_PID" 2>/dev/null; then
        kill "$XT_QEMU_PID" 2>/dev/null
        sleep 1
        kill -9 "$XT_QEMU_PID" 2>/dev/null
        wait "$XT_QEMU_PID" 2>/dev/null
    fi
    XT_QEMU_PID=
}

# Lines of the serial log the host shows as they come.
xt_show() {
    tr -d '\r' | grep --line-buffered -E '^(STEP |FIGURE |  \| |DOM0-|TESTS-BEGIN|SUMMARY |\(XEN\) .*(Panic|crashed|FATAL))'
}

# A boot that runs the tests of GROUP: the serial log goes to
# WORK/serial.log, the lines above to stdout. Returns 0 only when the
# tests ran to their summary and none failed. Time limits: dom0 must be
# ready within XT_BOOT_LIMIT s, everything done within XT_LIMIT s; QEMU
# is killed past either.
xt_boot_tests() {
    local group=$1 log=$XT_WORK/serial.log t0 end ready_end tail_pid st=0 sum
    xt_qemu_args "keeltest=$group"
    : >"$log"
    t0=$(xt_now)
    end=$(($(date +%s) + XT_LIMIT))
    ready_end=$(($(date +%s) + XT_BOOT_LIMIT))
    "${XT_QEMU[@]}" -display none -monitor none -serial "file:$log" \
        </dev/null >"$XT_WORK/qemu.out" 2>&1 &
    XT_QEMU_PID=$!
    # tail ends a second after QEMU does (--pid), and grep at its EOF.
    tail -n +1 -f --pid="$XT_QEMU_PID" "$log" 2>/dev/null | xt_show &
    tail_pid=$!
    while kill -0 "$XT_QEMU_PID" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$end" ]; then
            xt_say "time limit: $XT_LIMIT s passed; killing QEMU"
            st=1
            break
        fi
        if [ "$(date +%s)" -ge "$ready_end" ] && ! grep -q DOM0-READY "$log"; then
            xt_say "dom0 not ready after $XT_BOOT_LIMIT s; killing QEMU"
            st=1
            break
        fi
        sleep 1
    done
    XT_BOOT_SECS=$(xt_since "$t0")
    xt_kill_qemu
    wait "$tail_pid" 2>/dev/null
    sum=$(tr -d '\r' <"$log" | grep -a '^SUMMARY ' | tail -n 1)
    if [ -z "$sum" ]; then
        xt_unfinished "$log"
        [ -s "$XT_WORK/qemu.out" ] && sed 's/^/  qemu: /' "$XT_WORK/qemu.out"
        return 1
    fi
    XT_SUMMARY=${sum#SUMMARY }
    case $XT_SUMMARY in *" 0 failed") ;; *) st=1 ;; esac
    return $st
}

# Why the tests stopped short: the step that was running, and Xen's or
# dom0's last words.
xt_unfinished() {
    local log=$1 last
    last=$(tr -d '\r' <"$log" | grep -a '^STEP-BEGIN ' | tail -n 1 | cut -d' ' -f2)
    if [ -n "$last" ] && ! tr -d '\r' <"$log" | grep -aq "^STEP $last "; then
        echo "STEP $last FAIL - the run stopped during this step"
    fi
    if tr -d '\r' <"$log" | grep -aq '^(XEN) Panic on CPU'; then
        xt_say "Xen panicked${last:+ during step $last}:"
        tr -d '\r' <"$log" | grep -a -E '^\(XEN\) +(RIP:|\[<|Panic|FATAL|Faulting|.*BUG|Assertion)' |
            sed 's/^/  /'
    else
        xt_say "the tests did not finish${last:+ (last step begun: $last)}; the serial log's last lines:"
        tr -d '\r' <"$log" | tail -n 25 | sed 's/^/  /'
    fi
}
