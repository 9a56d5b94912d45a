pm.test('Is Prometheus text', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('text/plain');
});
pm.test('Counts the requests it answered, by route', function () {
    const text = pm.response.text();
    pm.expect(text).to.include('# TYPE http_requests_total counter');
    pm.expect(text).to.match(/^http_requests_total\{[^}]*\} \d/m);
    pm.expect(text).to.include('route="/auth/login"');
});
