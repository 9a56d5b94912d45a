expectDetail('Incorrect username or password');
