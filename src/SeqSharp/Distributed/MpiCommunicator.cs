using System.Runtime.InteropServices;

namespace SeqSharp.Distributed;

/// <summary>
/// MPI's <c>MPI_COMM_WORLD</c> through the C API of the MPI library that launched this process:
/// Open MPI (<c>libmpi.so.40</c>) or MPICH (<c>libmpich.so.12</c>), loaded at run time, so that a
/// program that never runs under <c>mpirun</c> needs no MPI library at all.
/// </summary>
/// <remarks>
/// <para>MPI is initialised with <c>MPI_THREAD_FUNNELED</c>: every call must come from the thread
/// that created the communicator. The two engines differ in their handles: Open MPI's are the
/// addresses of exported globals (<c>ompi_mpi_comm_world</c>, ...), MPICH's are integer constants.</para>
/// <para>MPI counts are <c>int</c>: larger buffers are reduced in pieces.</para>
/// </remarks>
public sealed unsafe class MpiCommunicator : Communicator
{
    private const int ThreadFunneled = 1;
    private const int MaxCount = int.MaxValue / 8;

    private readonly nint _library;
    private readonly nint _world, _float, _double, _byte, _sum, _max, _inPlace;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> _iallreduce;
    private readonly delegate* unmanaged<nint*, int*, nint, int> _test;
    private readonly delegate* unmanaged<nint*, nint, int> _wait;
    private readonly nint _statusIgnore;
    private readonly Dictionary<nint, nint> _requests = [];
    private nint _nextRequest = 1;
    private readonly delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly int _thread;
    private bool _finalized;

    private MpiCommunicator(nint library, bool openMpi, string engine)
    {
        _library = library;
        Engine = engine;
        _thread = Environment.CurrentManagedThreadId;
        var initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        var initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        var commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        var commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Export("MPI_Bcast");
        _iallreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)Export("MPI_Iallreduce");
        _test = (delegate* unmanaged<nint*, int*, nint, int>)Export("MPI_Test");
        _wait = (delegate* unmanaged<nint*, nint, int>)Export("MPI_Wait");
        // MPI_STATUS_IGNORE: (MPI_Status*)0 in Open MPI, (MPI_Status*)1 in MPICH.
        _statusIgnore = openMpi ? 0 : 1;
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        if (openMpi)
        {
            _world = Export("ompi_mpi_comm_world");
            _float = Export("ompi_mpi_float");
            _double = Export("ompi_mpi_double");
            _byte = Export("ompi_mpi_byte");
            _sum = Export("ompi_mpi_op_sum");
            _max = Export("ompi_mpi_op_max");
            _inPlace = 1;
        }
        else
        {
            _world = 0x44000000;
            _float = 0x4c00040a;
            _double = 0x4c00080b;
            _byte = 0x4c00010d;
            _sum = 0x58000003;
            _max = 0x58000001;
            _inPlace = -1;
        }

        int already = 0;
        Check(initialized(&already), "MPI_Initialized");
        if (already == 0)
        {
            int provided = 0;
            Check(initThread(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
            if (provided < ThreadFunneled)
                throw new InvalidOperationException($"{engine} gave thread support level {provided}; SeqSharp needs MPI_THREAD_FUNNELED (1).");
        }
        int rank = 0, size = 0;
        Check(commRank(_world, &rank), "MPI_Comm_rank");
        Check(commSize(_world, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;

        // An exception nobody catches would abort this rank in a way that leaves the others waiting in
        // their next collective call: end the whole run instead, as mpi4py does. A normal exit finalizes.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (_finalized || Size == 1)
                return;
            Console.Error.WriteLine($"SeqSharp: rank {Rank}/{Size} ends the MPI run (MPI_Abort) after an unhandled exception: {(e.ExceptionObject as Exception)?.Message}");
            Console.Error.Flush();
            _abort(_world, 1);
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    /// <inheritdoc/>
    public override int Rank { get; }

    /// <inheritdoc/>
    public override int Size { get; }

    /// <inheritdoc/>
    public override string Engine { get; }

    /// <summary>
    /// Whether a launcher started this process as one rank of several: <c>mpirun</c> / <c>mpiexec</c> of
    /// Open MPI (<c>OMPI_COMM_WORLD_SIZE</c>), MPICH's Hydra (<c>PMI_SIZE</c>) or Slurm with PMIx
    /// (<c>PMIX_RANK</c>).
    /// </summary>
    public static bool Launched() =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMI_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>
    /// Loads the MPI library of the launcher and joins <c>MPI_COMM_WORLD</c>.
    /// </summary>
    /// <exception cref="DllNotFoundException">Neither Open MPI's nor MPICH's library can be loaded; the message says what to install.</exception>
    public static MpiCommunicator Open()
    {
        // Open MPI sets OMPI_*; prefer its library then, MPICH's otherwise.
        bool preferOpenMpi = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
            || Environment.GetEnvironmentVariable("MPICH_INTERFACE_HOSTNAME") is null && Environment.GetEnvironmentVariable("PMI_SIZE") is null;
        var candidates = preferOpenMpi
            ? new[] { ("libmpi.so.40", true), ("libmpich.so.12", false) }
            : new[] { ("libmpich.so.12", false), ("libmpi.so.40", true) };
        foreach (var (name, openMpi) in candidates)
        {
            if (!openMpi)
            {
                // UCX's signal handlers (MPICH here) turn .NET's NullReferenceException into a crash;
                // the C environment must say so before the library loads.
                SetNativeEnvironment("UCX_HANDLE_ERRORS", "none");
            }
            if (NativeLibrary.TryLoad(name, out var handle))
                return new MpiCommunicator(handle, openMpi, openMpi ? $"Open MPI ({name})" : $"MPICH ({name})");
        }
        throw new DllNotFoundException(
            "This process was started by an MPI launcher, but no MPI library could be loaded (tried libmpi.so.40 of Open MPI and libmpich.so.12 of MPICH). " +
            "Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin) on every machine.");
    }

    /// <inheritdoc/>
    public override void AllreduceSum(Span<float> buffer)
    {
        fixed (float* p = buffer)
            Reduce((nint)p, buffer.Length, sizeof(float), _float, _sum, "MPI_Allreduce(sum, float)");
    }

    /// <inheritdoc/>
    public override void AllreduceSum(Span<double> buffer)
    {
        fixed (double* p = buffer)
            Reduce((nint)p, buffer.Length, sizeof(double), _double, _sum, "MPI_Allreduce(sum, double)");
    }

    /// <inheritdoc/>
    public override void AllreduceMax(Span<double> buffer)
    {
        fixed (double* p = buffer)
            Reduce((nint)p, buffer.Length, sizeof(double), _double, _max, "MPI_Allreduce(max, double)");
    }

    /// <summary>MPI_Iallreduce in place: returns at once; <see cref="Wait"/> or <see cref="Test"/> completes it.</summary>
    /// <inheritdoc/>
    public override nint StartAllreduceSum(float* buffer, int count)
    {
        RequireUsable();
        // The request is an MPI_Request (a pointer in Open MPI, an int in MPICH): held here, named by a counter.
        nint request = 0;
        Check(_iallreduce(_inPlace, (nint)buffer, count, _float, _sum, _world, &request), "MPI_Iallreduce(sum, float)");
        nint handle = _nextRequest++;
        _requests[handle] = request;
        return handle;
    }

    /// <inheritdoc/>
    public override bool Test(nint request)
    {
        RequireUsable();
        if (!_requests.TryGetValue(request, out var mpiRequest))
            return true;
        int done = 0;
        Check(_test(&mpiRequest, &done, _statusIgnore), "MPI_Test");
        if (done != 0)
            _requests.Remove(request);
        else
            _requests[request] = mpiRequest;
        return done != 0;
    }

    /// <inheritdoc/>
    public override void Wait(nint request)
    {
        RequireUsable();
        if (!_requests.Remove(request, out var mpiRequest))
            return;
        Check(_wait(&mpiRequest, _statusIgnore), "MPI_Wait");
    }

    /// <inheritdoc/>
    public override void Broadcast(Span<byte> buffer, int root = 0)
    {
        RequireUsable();
        if (root < 0 || root >= Size)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"Expected a root rank in [0, {Size}).");
        fixed (byte* p = buffer)
        {
            for (int offset = 0; offset < buffer.Length; offset += MaxCount)
                Check(_bcast((nint)(p + offset), Math.Min(MaxCount, buffer.Length - offset), _byte, root, _world), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public override void Barrier()
    {
        RequireUsable();
        Check(_barrier(_world), "MPI_Barrier");
    }

    /// <inheritdoc/>
    public override void Abort(int errorCode) => _abort(_world, errorCode);

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_finalized)
            return;
        _finalized = true;
        _finalize();
    }

    private void Reduce(nint data, int length, int elementSize, nint type, nint op, string what)
    {
        RequireUsable();
        for (int offset = 0; offset < length; offset += MaxCount)
            Check(_allreduce(_inPlace, data + (nint)offset * elementSize, Math.Min(MaxCount, length - offset), type, op, _world), what);
    }

    private void RequireUsable()
    {
        if (_finalized)
            throw new ObjectDisposedException(nameof(MpiCommunicator), "MPI was finalized: no more collective calls can be made in this process.");
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException(
                $"MPI calls must come from the thread that initialised MPI (managed thread {_thread}; this is {Environment.CurrentManagedThreadId}): " +
                "MPI runs with MPI_THREAD_FUNNELED. Call Fit from the thread that created the DataParallel distribution.");
    }

    private nint Export(string name) => NativeLibrary.GetExport(_library, name);

    private void Check(int code, string what)
    {
        if (code != 0)
            throw new InvalidOperationException($"{what} failed with MPI error code {code} ({Engine}, rank {Rank}).");
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    private static void SetNativeEnvironment(string name, string value)
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(name) is null)
        {
            SetEnv(name, value, 0);
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
