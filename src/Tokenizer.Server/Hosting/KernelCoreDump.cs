using System.Runtime.InteropServices;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// The kernel's own core dump, which the .NET switches do not govern: a crash (SIGSEGV, SIGABRT) while RLIMIT_CORE is
/// above zero writes the whole address space, PANs and CVCs in flight included, to a core file (or hands it to the
/// program in <c>core_pattern</c>). The process turns it off for itself, whatever limit it inherited.
/// </summary>
internal static partial class KernelCoreDump
{
    // Linux values (asm-generic/resource.h, linux/prctl.h); the same on x64 and arm64.
    private const int RlimitCore = 4;
    private const int PrGetDumpable = 3;
    private const int PrSetDumpable = 4;

    /// <summary>
    /// On Linux, sets this process's RLIMIT_CORE to 0 (soft and hard, so nothing it runs can raise it again) and makes it
    /// non-dumpable (<c>prctl(PR_SET_DUMPABLE, 0)</c>: no core file through <c>core_pattern</c> either, and no ptrace
    /// attach by the same user), then reads both back. Does nothing on other systems.
    /// </summary>
    /// <returns>Null when done (or not Linux); else the call that failed and its errno, fit to print.</returns>
    public static string? TurnOff()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var zero = new ResourceLimit(0, 0);
            if (SetResourceLimit(RlimitCore, in zero) != 0)
            {
                return $"setrlimit(RLIMIT_CORE, 0) failed (errno {Marshal.GetLastPInvokeError()})";
            }

            if (GetResourceLimit(RlimitCore, out var limit) != 0 || limit.Current != 0 || limit.Maximum != 0)
            {
                return "getrlimit(RLIMIT_CORE) does not read back 0 after setrlimit";
            }

            if (ProcessControl(PrSetDumpable, 0, 0, 0, 0) != 0)
            {
                return $"prctl(PR_SET_DUMPABLE, 0) failed (errno {Marshal.GetLastPInvokeError()})";
            }

            return ProcessControl(PrGetDumpable, 0, 0, 0, 0) == 0 ? null : "prctl(PR_GET_DUMPABLE) does not read back 0 after PR_SET_DUMPABLE";
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"libc setrlimit/prctl cannot be called ({error.GetType().Name})";
        }
    }

    // System32 only: never the application's directory, so a planted "libc" there is not loaded (on Linux this is the
    // dynamic linker's default search).
    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int SetResourceLimit(int resource, in ResourceLimit limit);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int GetResourceLimit(int resource, out ResourceLimit limit);

    // prctl is variadic in C; on Linux x64 and arm64 unsigned long arguments pass as fixed ones do.
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int ProcessControl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>struct rlimit: rlim_cur, rlim_max (rlim_t is 64-bit on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ResourceLimit(ulong Current, ulong Maximum);
}
