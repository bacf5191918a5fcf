/* det_svg.c - a DET curve (ISO/IEC 19795-1, ISO/IEC 30107-3) as a self-contained SVG: APCER
 * against BPCER, both on normal-deviate (probit) scales, where normally distributed scores draw
 * straight lines and the low-error corner is spread out. Written by hand: no library. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PLOT_X = 80, PLOT_Y = 56, PLOT_W = 520, PLOT_H = 520, LEGEND_X = PLOT_X + PLOT_W + 30, ROW_H = 18 };

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
static const char *const dashes[] = {"", "7 3", "2 3", "9 3 2 3"};

/* Inverse of the standard normal CDF, 0 < p < 1 (P. J. Acklam's rational approximation,
 * relative error below 1.2e-9: far finer than a pixel). */
static double probit(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549671064685486e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    const double p_low = 0.02425;
    if (p < p_low || p > 1 - p_low) {
        double q = sqrt(-2 * log(p < p_low ? p : 1 - p));
        double z = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < p_low ? z : -z;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* 0 and 1 have no normal deviate: a rate of k out of n is drawn within [0.5/n, 1 - 0.5/n], half
 * an error from either end, so an empty count stays visible and ordered by the set's size. */
static double clamp_rate(double r, int n) {
    double e = 0.5 / n;
    return r < e ? e : r > 1 - e ? 1 - e : r;
}

typedef struct det_axes { double zlo, zhi; } det_axes;

static double ax_x(const det_axes *a, double p) { return PLOT_X + (probit(p) - a->zlo) / (a->zhi - a->zlo) * PLOT_W; }
static double ax_y(const det_axes *a, double p) { return PLOT_Y + PLOT_H - (probit(p) - a->zlo) / (a->zhi - a->zlo) * PLOT_H; }

static void put_xml(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '"') fputs("&quot;", f);
        else if ((unsigned char)*s < 0x20) fputc(' ', f); /* control characters are not XML */
        else fputc(*s, f);
    }
}

/* One operating point per distinct score used as the threshold (accept when score >= t), then
 * the point past the highest score: (BPCER, APCER) from (0, 1) to (1, 0), a staircase. */
static void put_points(FILE *f, const det_axes *a, const vf_det_curve *c) {
    double px = -1e9, py = -1e9;
    for (int i = 0, j = 0;;) {
        int end = i >= c->n_live && j >= c->n_spoof;
        double bpcer = 1, apcer = 0;
        if (!end) {
            float t = j >= c->n_spoof || (i < c->n_live && c->live[i] <= c->spoof[j]) ? c->live[i] : c->spoof[j];
            bpcer = (double)i / c->n_live;               /* the live scores below t */
            apcer = (double)(c->n_spoof - j) / c->n_spoof; /* the attack scores at or above t */
            while (i < c->n_live && c->live[i] == t) i++;
            while (j < c->n_spoof && c->spoof[j] == t) j++;
        }
        double x = ax_x(a, clamp_rate(bpcer, c->n_live)), y = ax_y(a, clamp_rate(apcer, c->n_spoof));
        if (fabs(x - px) > 0.05 || fabs(y - py) > 0.05) { fprintf(f, "%.1f,%.1f ", x, y); px = x; py = y; }
        if (end) break;
    }
}

static void put_diamond(FILE *f, double x, double y) {
    fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"1.5\"/>\n",
            x, y - 6, x + 6, y, x, y + 6, x - 6, y);
}

int vf_det_svg_write(const char *path, const char *title, const vf_det_curve *curves, int n_curves, const float *thr,
                     int n_thr, char *err, size_t errn) {
    /* axes: symmetric, from the lowest tick at or below the smallest drawable rate */
    static const double ticks[] = {0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4};
    int n_ticks = (int)(sizeof ticks / sizeof ticks[0]), largest = 0, main_ok = 0, n_drawn = 0;
    for (int k = 0; k < n_curves; k++) {
        const vf_det_curve *c = &curves[k];
        if (c->n_live < 1 || c->n_spoof < 1) continue;
        if (k == 0) main_ok = 1;
        n_drawn++;
        if (c->n_live > largest) largest = c->n_live;
        if (c->n_spoof > largest) largest = c->n_spoof;
    }
    double lo = 0.01;
    if (largest > 0) {
        double e = 0.5 / largest;
        lo = e < ticks[0] ? e : ticks[0];
        for (int t = 0; t < n_ticks; t++) if (ticks[t] <= e * (1 + 1e-9)) lo = ticks[t];
    }
    det_axes ax = {probit(lo), -probit(lo)};

    FILE *f = fopen(path, "w");
    if (!f) { snprintf(err, errn, "cannot write %s", path); return -1; }
    /* wide enough for the longest legend text (about 6.6 px per character at 12 px) */
    size_t longest = 48;
    for (int k = 0; k < n_curves; k++) if (strlen(curves[k].label) > longest) longest = strlen(curves[k].label);
    int svg_w = LEGEND_X + 36 + (int)(6.6 * (double)longest) + 16;
    if (svg_w < 1000) svg_w = 1000;
    int legend_rows = n_drawn + 2 + (main_ok ? n_thr : 0);
    int h = PLOT_Y + PLOT_H + 60;
    if (PLOT_Y + 20 + legend_rows * ROW_H > h) h = PLOT_Y + 20 + legend_rows * ROW_H;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<title>", svg_w, h, svg_w, h);
    put_xml(f, title);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<text x=\"%d\" y=\"30\" font-size=\"15\" font-weight=\"bold\">",
            svg_w, h, PLOT_X);
    put_xml(f, title);
    fprintf(f, "</text>\n");

    /* grid and tick labels at the same rates on both axes */
    fprintf(f, "<g stroke=\"#ddd\" stroke-width=\"1\">\n");
    for (int side = 0; side < 2; side++) {
        for (int t = 0; t < n_ticks; t++) {
            double p = side ? 1 - ticks[t] : ticks[t];
            if (ticks[t] < lo * (1 - 1e-9)) continue;
            double x = ax_x(&ax, p), y = ax_y(&ax, p);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", x,
                    PLOT_Y, x, PLOT_Y + PLOT_H, PLOT_X, y, PLOT_X + PLOT_W, y);
        }
    }
    fprintf(f, "</g>\n<g fill=\"#333\" font-size=\"11\">\n");
    for (int side = 0; side < 2; side++) {
        for (int t = 0; t < n_ticks; t++) {
            double p = side ? 1 - ticks[t] : ticks[t];
            if (ticks[t] < lo * (1 - 1e-9)) continue;
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>", ax_x(&ax, p), PLOT_Y + PLOT_H + 16, 100 * p);
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dy=\"0.35em\">%g</text>\n", PLOT_X - 6, ax_y(&ax, p), 100 * p);
        }
    }
    fprintf(f, "</g>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000\"/>\n", PLOT_X, PLOT_Y,
            PLOT_W, PLOT_H);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">BPCER: bona fide presentations rejected (%%, normal deviate scale)</text>\n",
            PLOT_X + PLOT_W / 2, PLOT_Y + PLOT_H + 40);
    fprintf(f, "<text transform=\"translate(%d %d) rotate(-90)\" text-anchor=\"middle\">APCER: attack presentations accepted "
               "(%%, normal deviate scale)</text>\n", PLOT_X - 48, PLOT_Y + PLOT_H / 2);
    /* the EER line */
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"3 4\"/>\n", PLOT_X,
            PLOT_Y + PLOT_H, PLOT_X + PLOT_W, PLOT_Y);

    /* curves, the main one last so that it is drawn on top */
    int ly = PLOT_Y + 10, shown = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = pass ? 0 : 1; k < (pass ? 1 : n_curves); k++) {
            const vf_det_curve *c = &curves[k];
            if (c->n_live < 1 || c->n_spoof < 1) continue;
            const char *color = k == 0 ? "#000" : palette[(k - 1) % 10], *dash = k == 0 ? "" : dashes[((k - 1) / 10) % 4];
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s points=\"", color, k == 0 ? "2.5" : "1.5",
                    dash[0] ? " stroke-dasharray=\"" : "", dash, dash[0] ? "\"" : "");
            put_points(f, &ax, c);
            fprintf(f, "\"/>\n");
            /* legend, in curve order */
            int y = ly + (k == 0 ? 0 : ++shown) * ROW_H;
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s/><text x=\"%d\" y=\"%d\" dy=\"0.35em\">",
                    LEGEND_X, y, LEGEND_X + 28, y, color, k == 0 ? "2.5" : "1.5", dash[0] ? " stroke-dasharray=\"" : "", dash,
                    dash[0] ? "\"" : "", LEGEND_X + 36, y);
            put_xml(f, c->label);
            fprintf(f, "</text>\n");
        }
    }
    ly += (shown + 1) * ROW_H + 6;

    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555\">0%% and 100%% are drawn at 0.5/N and 1 - 0.5/N "
               "(N: that class in the curve)</text>\n", LEGEND_X, h - 12);
    if (main_ok) {
        /* labels on the plot get a white halo: they may cross a curve */
        const char *halo = " font-size=\"11\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\"";
        const vf_det_curve *c = &curves[0];
        float eer_t;
        double eer = vf_eval_eer(c->live, c->n_live, c->spoof, c->n_spoof, &eer_t);
        double x = ax_x(&ax, clamp_rate(eer, c->n_live)), y = ax_y(&ax, clamp_rate(eer, c->n_spoof));
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#000\"/><text x=\"%.1f\" y=\"%.1f\"%s>EER %.1f%%</text>\n", x, y,
                x + 8, y + 17, halo, 100 * eer);
        fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"#000\"/><text x=\"%d\" y=\"%d\" dy=\"0.35em\">EER %.2f%% at threshold %.4f</text>\n",
                LEGEND_X + 14, ly, LEGEND_X + 36, ly, 100 * eer, eer_t);
        for (int i = 0; i < n_thr; i++) {
            double b = (double)vf_eval_count_below(c->live, c->n_live, thr[i]) / c->n_live;
            double a = (double)(c->n_spoof - vf_eval_count_below(c->spoof, c->n_spoof, thr[i])) / c->n_spoof;
            x = ax_x(&ax, clamp_rate(b, c->n_live));
            y = ax_y(&ax, clamp_rate(a, c->n_spoof));
            put_diamond(f, x, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s>%.2f</text>\n", x + 9, y + 4, halo, thr[i]);
            int yl = ly + (i + 1) * ROW_H;
            put_diamond(f, LEGEND_X + 14, yl);
            fprintf(f, "<text x=\"%d\" y=\"%d\" dy=\"0.35em\">threshold %.4f: BPCER %.1f%%, APCER %.1f%%</text>\n", LEGEND_X + 36,
                    yl, thr[i], 100 * b, 100 * a);
        }
    } else {
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no DET curve: the set needs scored bona fide and attack "
                   "presentations</text>\n", PLOT_X + PLOT_W / 2, PLOT_Y + PLOT_H / 2);
    }
    fprintf(f, "</svg>\n");
    int bad = ferror(f);
    if (fclose(f) || bad) { snprintf(err, errn, "write error on %s", path); return -1; }
    return n_drawn;
}
