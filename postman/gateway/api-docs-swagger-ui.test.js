pm.test('Is an HTML page', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('text/html');
});
pm.test('Loads Swagger UI with the gateway\'s document', function () {
    const html = pm.response.text();
    pm.expect(html).to.include('swagger-ui');
    pm.expect(html).to.include('/openapi.json');
});
