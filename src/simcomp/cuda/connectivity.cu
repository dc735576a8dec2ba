// Exact 6-connected components of label volumes by union-find (Playne & Hawick 2018).
// The reference is the CPU path in simcomp/functional/connectivity.py; tests compare the two.
//
// Layout: labels (B, T, H, W) as long long; parent (B * T * H * W) int, a global voxel index.
// Every union links the larger root under the smaller with atomicMin, so a root is always
// the smallest index of its tree and the final ids do not depend on thread scheduling.

__device__ inline int find_root(const int* parent, int i)
{
    int p = parent[i];
    while (p != i) { i = p; p = parent[i]; }
    return i;
}

__device__ inline void unite(int* parent, int a, int b)
{
    bool done = false;
    while (!done) {
        a = find_root(parent, a);
        b = find_root(parent, b);
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

// parent[i] = i, or the voxel before it along x when both share a label (a head start that
// saves most of the unions of the merge pass).
extern "C" __global__ void cc_init(const long long* __restrict__ labels, int* __restrict__ parent,
                                   int total, int W)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    parent[i] = (i % W > 0 && labels[i - 1] == labels[i]) ? i - 1 : i;
}

// Unite each voxel with its same-label neighbours at t - 1 and y - 1 (x - 1 was linked by
// cc_init), never across clips.
extern "C" __global__ void cc_merge(const long long* __restrict__ labels, int* parent,
                                    int total, int T, int H, int W)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long lab = labels[i];
    int plane = H * W;
    int n = i % (T * plane);
    if ((n / W) % H > 0 && labels[i - W] == lab) unite(parent, i, i - W);
    if (n >= plane && labels[i - plane] == lab) unite(parent, i, i - plane);
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
