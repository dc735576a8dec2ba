// SLIC's k-means steps on the clip's grid of pixels or sampled pixels, one thread per voxel
// (SPEC R6-R8).
// The reference is the torch path in simcomp/functional/slic.py; tests compare the two.
//
// Layout: feats (B, N, C) with N = T * NY * NX voxels in (t, y, x) order; centres (B, K, C + 3)
// as [features..., t, y, x]; axes: t = index, y = ys[iy], x = xs[ix] (cell centres, pixels).

// The voxel of thread i: its clip b, and its (t, iy, ix) on the grid; false past the end.
__device__ inline bool voxel(long long i, int B, int T, int NY, int NX,
                             int* b, int* t, int* iy, int* ix)
{
    long long N = (long long)T * NY * NX;
    if (i >= (long long)B * N) return false;
    long long n = i % N;
    *b = (int)(i / N);
    *t = (int)(n / ((long long)NY * NX));
    *iy = (int)((n / NX) % NY);
    *ix = (int)(n % NX);
    return true;
}

extern "C" __global__ void slic_assign(
    const float* __restrict__ feats, const float* __restrict__ centres,
    const unsigned char* __restrict__ valid, const float* __restrict__ ys,
    const float* __restrict__ xs,
    const float* __restrict__ step, const float* __restrict__ windows,
    long long* __restrict__ labels, int B, int T, int NY, int NX, int C, int K)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    int b, t, iy, ix;
    if (!voxel(i, B, T, NY, NX, &b, &t, &iy, &ix)) return;
    float pt = (float)t, py = ys[iy], px = xs[ix];
    float s = step[b], inv = 1.0f / (s * s);
    // scikit-image's window per axis: -w - 1 < pixel - centre <= w
    float wt = windows[b * 3], wy = windows[b * 3 + 1], wx = windows[b * 3 + 2];
    const float* f = feats + i * C;
    float best = __int_as_float(0x7f800000);  // +inf without math.h (NVRTC has none)
    long long arg = 0;
    for (int k = 0; k < K; ++k) {
        if (!valid[(long long)b * K + k]) continue;
        const float* m = centres + ((long long)b * K + k) * (C + 3);
        float dt = pt - m[C], dy = py - m[C + 1], dx = px - m[C + 2];
        if (!(dt > -wt - 1.0f && dt <= wt && dy > -wy - 1.0f && dy <= wy &&
              dx > -wx - 1.0f && dx <= wx)) continue;
        float d = (dt * dt + dy * dy + dx * dx) * inv;
        for (int c = 0; c < C; ++c) {
            float e = f[c] - m[c];
            d += e * e;
        }
        if (d < best) { best = d; arg = k; }
    }
    labels[i] = arg;
}

// Sums of [features, t, y, x, 1] per label: the means of the update step are sums / count.
// Grid (blocks, B): each block sums a strided share of one clip's voxels in shared memory
// (K * (C + 4) 64-bit slots), then adds its totals to global memory once; global atomics on
// the few label slots were the bottleneck when every voxel added straight to them. Values are
// summed in fixed point (times the clip's power of two fixed[b], rounded): integer additions
// give the same sums in any order, so the means, and the labels after them, do not depend on
// thread scheduling (float atomics drifted apart by whole supervoxels from run to run).
extern "C" __global__ void slic_accumulate(
    const float* __restrict__ feats, const long long* __restrict__ labels,
    const float* __restrict__ ys, const float* __restrict__ xs, const float* __restrict__ fixed,
    unsigned long long* __restrict__ sums, int B, int T, int NY, int NX, int C, int K)
{
    extern __shared__ unsigned long long acc[];
    const int width = C + 4, b = blockIdx.y;
    const float q = fixed[b];
    for (int j = threadIdx.x; j < K * width; j += blockDim.x) acc[j] = 0ull;
    __syncthreads();
    const long long N = (long long)T * NY * NX, plane = (long long)NY * NX;
    for (long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x; n < N;
         n += (long long)gridDim.x * blockDim.x) {
        long long i = (long long)b * N + n;
        int iy = (int)((n / NX) % NY), ix = (int)(n % NX);
        unsigned long long* out = acc + labels[i] * width;
        for (int c = 0; c < C; ++c)
            atomicAdd(out + c, (unsigned long long)__float2ll_rn(feats[i * C + c] * q));
        atomicAdd(out + C, (unsigned long long)__float2ll_rn((float)(n / plane) * q));
        atomicAdd(out + C + 1, (unsigned long long)__float2ll_rn(ys[iy] * q));
        atomicAdd(out + C + 2, (unsigned long long)__float2ll_rn(xs[ix] * q));
        atomicAdd(out + C + 3, 1ull);
    }
    __syncthreads();
    unsigned long long* total = sums + (long long)b * K * width;
    for (int j = threadIdx.x; j < K * width; j += blockDim.x)
        if (acc[j] != 0ull) atomicAdd(total + j, acc[j]);
}
