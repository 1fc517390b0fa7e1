// funnel_ivf_ceiling_faiss.cpp: funnel_ivf_ceiling_study.py's sweep on a FAISS built with SIMD kernels.
//
// Debian's FAISS (1.7.3) is built for baseline x86-64: its fast-scan kernels
// run on emulated SIMD and it has no RaBitQ.  This driver times the same
// kinds of index with a FAISS built from source for the machine (AVX-512),
// on the rows, queries and exact top 10 that the study wrote with DUMP=DIR,
// one query at a time on one thread, ROUNDS runs (median of the p50s and of
// the means), and prints the study's table.  Each argument after DIR is an
// index_factory string (L2 on unit vectors ranks as inner product):
//
//   DUMP=/var/tmp/ivf METHODS= python3 test/bench/funnel_ivf_ceiling_study.py COPYFILE 250000 200
//   cmake -S faiss -B build -DFAISS_OPT_LEVEL=avx512 -DFAISS_ENABLE_GPU=OFF -DFAISS_ENABLE_PYTHON=OFF \
//       -DBUILD_TESTING=OFF -DFAISS_ENABLE_EXTRAS=OFF -DFAISS_ENABLE_MKL=OFF -DCMAKE_BUILD_TYPE=Release \
//       && make -C build faiss_avx512
//   g++ -O3 -std=gnu++20 -fopenmp -mavx2 -mfma -mf16c -mavx512f -mavx512cd -mavx512vl -mavx512dq \
//       -mavx512bw -mpopcnt -mbmi2 -DCOMPILE_SIMD_AVX2 -DCOMPILE_SIMD_AVX512 -Ifaiss \
//       test/bench/funnel_ivf_ceiling_faiss.cpp build/faiss/libfaiss_avx512.a -lopenblas -o ivf_ceiling
//   ROUNDS=3 EF_SEARCH="64 128 256" PROBES="0.1 0.2 0.3" K_FACTORS="4 8 16" \
//       ./ivf_ceiling /var/tmp/ivf HNSW16 IVF500,Flat IVF500,PQ64x4fs,RFlat IVF500,RaBitQfs,RFlat
//
// HNSW is built with efConstruction 64; PROBES are shares of the lists.

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/index_factory.h>
#include <faiss/utils/utils.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int K = 10;

struct Matrix {
    int n = 0, d = 0;
    std::vector<float> data;
};

// A DUMP file: int32 rows, int32 columns, then the values row by row.
template <typename T>
std::vector<T> read_dump(const std::string& path, int& n, int& d) {
    std::ifstream f(path, std::ios::binary);
    if (!f || !f.read(reinterpret_cast<char*>(&n), 4) || !f.read(reinterpret_cast<char*>(&d), 4)) {
        fprintf(stderr, "cannot read %s\n", path.c_str());
        exit(1);
    }
    std::vector<T> v(size_t(n) * d);
    f.read(reinterpret_cast<char*>(v.data()), v.size() * sizeof(T));
    return v;
}

std::vector<double> env_list(const char* name, const char* fallback) {
    const char* s = getenv(name);
    std::istringstream in(s ? s : fallback);
    std::vector<double> out;
    for (double v; in >> v;)
        out.push_back(v);
    return out;
}

struct Result {
    double recall, p50, mean;
};

// Every query alone, ROUNDS times; recall@10 against the dumped truth.
Result time_queries(faiss::Index* index, const Matrix& q, const std::vector<int64_t>& truth, int rounds) {
    std::vector<double> p50s, means;
    std::vector<float> dist(K);
    std::vector<faiss::idx_t> ids(size_t(q.n) * K);
    for (int r = 0; r < rounds; r++) {
        std::vector<double> ms(q.n);
        for (int i = 0; i < q.n; i++) {
            auto t0 = std::chrono::steady_clock::now();
            index->search(1, q.data.data() + size_t(i) * q.d, K, dist.data(), ids.data() + size_t(i) * K);
            ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        }
        double sum = 0;
        for (double m : ms)
            sum += m;
        means.push_back(sum / q.n);
        std::nth_element(ms.begin(), ms.begin() + q.n / 2, ms.end());
        p50s.push_back(ms[q.n / 2]);
    }
    std::sort(p50s.begin(), p50s.end());
    std::sort(means.begin(), means.end());
    size_t hits = 0;
    for (int i = 0; i < q.n; i++) {
        std::set<int64_t> want(truth.begin() + size_t(i) * K, truth.begin() + size_t(i + 1) * K);
        for (int j = 0; j < K; j++)
            hits += want.count(ids[size_t(i) * K + j]);
    }
    return {double(hits) / (double(q.n) * K), p50s[rounds / 2], means[rounds / 2]};
}

// Mean number of entries in the nprobe lists nearest each query.
double entries_probed(faiss::IndexIVF* ivf, const Matrix& q) {
    std::vector<float> dist(size_t(q.n) * ivf->nprobe);
    std::vector<faiss::idx_t> lists(size_t(q.n) * ivf->nprobe);
    ivf->quantizer->search(q.n, q.data.data(), ivf->nprobe, dist.data(), lists.data());
    double total = 0;
    for (faiss::idx_t l : lists)
        total += l < 0 ? 0 : ivf->invlists->list_size(l);
    return total / q.n;
}

void print_row(const std::string& name, const std::string& setting, Result r, const std::string& work) {
    printf("%s | %s | %.4f | %.3f | %.3f | %s\n", name.c_str(), setting.c_str(), r.recall, r.p50, r.mean,
           work.c_str());
    fflush(stdout);
}

// The sweep that fits the index: efSearch, or nprobe (x k_factor under a refine).
void sweep(const std::string& name, faiss::Index* index, const Matrix& q, const std::vector<int64_t>& truth) {
    int rounds = atoi(getenv("ROUNDS") ? getenv("ROUNDS") : "3");
    char buf[128];
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
        for (double ef : env_list("EF_SEARCH", "16 24 32 48 64 96 128 192 256 384 512")) {
            hnsw->hnsw.efSearch = int(ef);
            faiss::hnsw_stats.reset();
            Result r = time_queries(index, q, truth, rounds);
            snprintf(buf, sizeof(buf), "%.0f distances", double(faiss::hnsw_stats.ndis) / (rounds * q.n));
            print_row(name, "efSearch " + std::to_string(int(ef)), r, buf);
        }
        return;
    }
    auto* refine = dynamic_cast<faiss::IndexRefine*>(index);
    auto* ivf = dynamic_cast<faiss::IndexIVF*>(refine ? refine->base_index : index);
    std::vector<double> factors = refine ? env_list("K_FACTORS", "4 8 16 32") : std::vector<double>{0};
    for (double share : env_list("PROBES", "0.02 0.05 0.1 0.15 0.2 0.25 0.3 0.4 0.5")) {
        ivf->nprobe = std::max<size_t>(1, std::lround(share * ivf->nlist));
        double entries = entries_probed(ivf, q);
        for (double kf : factors) {
            std::string setting = "nprobe " + std::to_string(ivf->nprobe);
            if (refine) {
                refine->k_factor = float(kf);
                setting += ", k_factor " + std::to_string(int(kf));
            }
            Result r = time_queries(index, q, truth, rounds);
            snprintf(buf, sizeof(buf), "%.0f entries + %.0f reranks", entries, kf * K);
            print_row(name, setting, r, buf);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DUMPDIR FACTORY...  (see the comment at the top)\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    Matrix rows, q;
    rows.data = read_dump<float>(dir + "/rows.f32", rows.n, rows.d);
    q.data = read_dump<float>(dir + "/queries.f32", q.n, q.d);
    int tn, tk;
    std::vector<int64_t> truth = read_dump<int64_t>(dir + "/truth.i64", tn, tk);
    printf("# %d rows x %d dims, %d queries, FAISS %s built for this CPU (%s), 1 thread for search\n", rows.n,
           rows.d, q.n, faiss::get_version().c_str(), faiss::get_compile_options().c_str());
    printf("method | setting | recall@10 | p50 ms | mean ms | work a query\n---|---|---|---|---|---\n");
    std::vector<std::string> builds;
    for (int a = 2; a < argc; a++) {
        omp_set_num_threads(atoi(getenv("BUILD_THREADS") ? getenv("BUILD_THREADS") : "1"));
        auto t0 = std::chrono::steady_clock::now();
        std::unique_ptr<faiss::Index> index(faiss::index_factory(rows.d, argv[a]));
        if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index.get()))
            hnsw->hnsw.efConstruction = 64;
        index->train(rows.n, rows.data.data());
        index->add(rows.n, rows.data.data());
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        omp_set_num_threads(1);
        builds.push_back(std::string(argv[a]) + " | " + std::to_string(secs));
        sweep(argv[a], index.get(), q, truth);
    }
    printf("\nindex | build s\n---|---\n");
    for (auto& b : builds)
        printf("%s\n", b.c_str());
    return 0;
}
