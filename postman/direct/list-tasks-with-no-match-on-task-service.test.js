pm.test('No task matches', function () {
    pm.expect(pm.response.json()).to.eql([]);
});
pm.test('X-Total-Count is 0', function () {
    pm.response.to.have.header('X-Total-Count', '0');
});
