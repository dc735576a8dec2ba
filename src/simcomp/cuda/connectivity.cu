// Exact 6-connected components of label volumes by union-find (Playne & Hawick 2018).
// The reference is the CPU path in simcomp/functional/connectivity.py; tests compare the two.
//
// Layout: labels (B, T, H, W) as long long (the kernels ending in _i32: int); parent
// (B * T * H * W) int, a global voxel index.
// Every union links the larger root under the smaller with atomicMin, so a root is always
// the smallest index of its tree and the final ids do not depend on thread scheduling.

__device__ inline int find_root(const int* parent, int i)
{
    int p = parent[i];
    while (p != i) { i = p; p = parent[i]; }
    return i;
}

// find_root with path halving: every other node on the path is re-pointed at its grandparent.
// atomicMin, not a store, so a concurrent union's smaller root is never overwritten.
__device__ inline int find_halving(int* parent, int i)
{
    while (true) {
        int p = parent[i];
        if (p == i) return i;
        int gp = parent[p];
        if (gp != p) atomicMin(parent + i, gp);
        i = gp;
    }
}

__device__ inline void unite(int* parent, int a, int b)
{
    bool done = false;
    while (!done) {
        a = find_halving(parent, a);
        b = find_halving(parent, b);
        if (a < b) {
            int old = atomicMin(parent + b, a);
            done = (old == b);
            b = old;
        } else if (b < a) {
            int old = atomicMin(parent + a, b);
            done = (old == a);
            a = old;
        } else {
            done = true;
        }
    }
}

// parent[i] = the first voxel of its x-run, found by ballots of the run starts: in the warp,
// or, where the run began before the warp, by the whole warp looking back 32 voxels at a time
// (a row always starts a run, so the search ends in the row). Every voxel then points at its
// run's first voxel, the smallest index of the run, and finds in cc_merge are short.
template <typename L>
__device__ inline void init(const L* __restrict__ labels, int* __restrict__ parent, int total,
                            int W)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    bool live = i < total;
    bool starts = !live || i % W == 0 || labels[i - 1] != labels[i];
    unsigned runs = __ballot_sync(0xffffffffu, starts);
    int lane = threadIdx.x & 31;
    int before = -1;  // where lane 0's run began, when that was before the warp
    if (!(runs & 1u)) {  // the same branch for the whole warp: lane 0 continues a run
        for (int j = i - lane - 32;; j -= 32) {
            int k = j + lane;
            bool s = k >= 0 && (k % W == 0 || labels[k - 1] != labels[k]);
            unsigned found = __ballot_sync(0xffffffffu, s);
            if (found) {
                before = j + (31 - __clz(found));
                break;
            }
        }
    }
    if (!live) return;
    unsigned upto = runs & (0xffffffffu >> (31 - lane));  // run starts at lanes <= this one
    parent[i] = upto ? i - lane + (31 - __clz(upto)) : before;
}

extern "C" __global__ void cc_init(const long long* labels, int* parent, int total, int W)
{
    init(labels, parent, total, W);
}

extern "C" __global__ void cc_init_i32(const int* labels, int* parent, int total, int W)
{
    init(labels, parent, total, W);
}

template <typename L>
__device__ inline void merge(const L* __restrict__ labels, int* parent, int total, int T, int H,
                             int W)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    L lab = labels[i];
    int plane = H * W;
    int n = i % (T * plane);
    // Where the voxel to the left shares this label and so does its own neighbour behind,
    // that neighbour's union already joined the same two x-runs.
    bool left = n % W > 0 && labels[i - 1] == lab;
    if ((n / W) % H > 0 && labels[i - W] == lab && !(left && labels[i - 1 - W] == lab))
        unite(parent, i, i - W);
    if (n >= plane && labels[i - plane] == lab && !(left && labels[i - 1 - plane] == lab))
        unite(parent, i, i - plane);
}

extern "C" __global__ void cc_merge(const long long* labels, int* parent, int total, int T,
                                    int H, int W)
{
    merge(labels, parent, total, T, H, W);
}

extern "C" __global__ void cc_merge_i32(const int* labels, int* parent, int total, int T, int H,
                                        int W)
{
    merge(labels, parent, total, T, H, W);
}

// Each voxel's component id: its root, as a flat index within its clip.
extern "C" __global__ void cc_resolve(const int* parent, long long* __restrict__ out, int total,
                                      int N)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int root = find_root(parent, i);
    out[i] = (long long)(root % N);
}

// Voxels per region: threads of a warp holding the same region add their count once.
extern "C" __global__ void region_sizes(const long long* __restrict__ regions,
                                        unsigned long long* __restrict__ counts,
                                        long long total)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    bool live = i < total;
    unsigned active = __ballot_sync(0xffffffffu, live);
    if (!live) return;
    long long r = regions[i];
    unsigned same = __match_any_sync(active, r);
    int lane = threadIdx.x & 31;
    if (lane == __ffs(same) - 1) atomicAdd(counts + r, (unsigned long long)__popc(same));
}
